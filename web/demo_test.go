package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// demoSigned files the demo application in c's browser (logged in as the holder "anna"), signs it with the code
// and returns the result page's path and its download links.
func demoSigned(t *testing.T, e *env, c *client) (string, []string) {
	t.Helper()
	r := c.post("/demo", url.Values{"office": {"testowo"}, "matter": {"residence"}, "firstName": {"Anna"},
		"surname": {"Testowa"}, "address": {"ul. Polna 1, Testowo"}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/sign/") {
		t.Fatalf("demo: %d %s", r.StatusCode, text(r.body))
	}
	signURL := r.Header.Get("Location")
	c.post(signURL+"/code", nil)
	r = c.post(signURL+"/confirm", url.Values{"code": {e.code("anna@example.test")}})
	u, err := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || err != nil || u.Path != "/demo/result" {
		t.Fatalf("after signing: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	res := c.get(u.RequestURI())
	var links []string
	for _, m := range regexp.MustCompile(`href="(/demo/result/[a-z2-7]+/download)"`).FindAllStringSubmatch(res.body, -1) {
		links = append(links, m[1])
	}
	if len(links) != 1 {
		t.Fatalf("result page: %d %s", res.StatusCode, text(res.body))
	}
	return u.RequestURI(), links
}

// withCookie is a request carrying only the given ts_demo cookie value (and none of the browser's cookies).
func withCookie(t *testing.T, base, path, value string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.AddCookie(&http.Cookie{Name: "ts_demo", Value: value})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestAttackForgedDemoCookie: the demo's case cookie once was "case.<id>…" in clear, so anyone who learnt a demo
// request's id (from a sign link, a log, a shoulder) downloaded the signed application with its holder's PESEL by
// sending "anything.<id>". The cookie is now authenticated by the server, bound to its request ids, and expires.
func TestAttackForgedDemoCookie(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	c := e.newClient()
	c.login("anna", holderPassword)
	result, links := demoSigned(t, e, c)
	if r := c.get(links[0]); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "44051401359") {
		t.Fatalf("the filing browser's own download: %d", r.StatusCode)
	}
	id := strings.Split(links[0], "/")[3]
	caseID, _ := url.ParseQuery(strings.SplitN(result, "?", 2)[1])
	u, _ := url.Parse(e.srv.URL)
	var real string
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == "ts_demo" {
			real = ck.Value
		}
	}
	if real == "" {
		t.Fatal("no demo cookie")
	}
	parts := strings.Split(real, ".")
	mac := parts[len(parts)-1]
	flipped := "A"
	if strings.HasPrefix(mac, "A") {
		flipped = "B"
	}
	forged := map[string]string{
		"anything.id":           "anything." + id,
		"case.id":               caseID.Get("case") + "." + id,
		"real with flipped MAC": strings.Join(parts[:len(parts)-1], ".") + "." + flipped + mac[1:],
		"real with another id":  strings.Replace(real, id, strings.Repeat("a", len(id)), 1),
		"real without its MAC":  strings.Join(parts[:len(parts)-1], "."),
		"empty":                 "",
	}
	for name, value := range forged {
		t.Run(name, func(t *testing.T) {
			if code := withCookie(t, e.srv.URL, links[0], value); code != http.StatusNotFound {
				t.Errorf("download with a forged cookie: %d", code)
			}
			if code := withCookie(t, e.srv.URL, result, value); code != http.StatusNotFound {
				t.Errorf("result page with a forged cookie: %d", code)
			}
		})
	}
	if code := withCookie(t, e.srv.URL, links[0], real); code != http.StatusOK {
		t.Errorf("the genuine cookie from another client: %d", code)
	}
	// the cookie expires on the server's clock, whatever the browser keeps
	e.clock.Add(25 * time.Hour)
	if code := withCookie(t, e.srv.URL, links[0], real); code != http.StatusNotFound {
		t.Errorf("download with an expired cookie: %d", code)
	}
}

// TestDemoRequestsMarked: a holder sent a demo link sees that the request comes from the demonstration form,
// and the signed application itself says so.
func TestDemoRequestsMarked(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	c := e.newClient()
	c.login("anna", holderPassword)
	r := c.post("/demo", url.Values{"office": {"testowo"}, "matter": {"residence"}, "firstName": {"Anna"},
		"surname": {"Testowa"}, "address": {"ul. Polna 1, Testowo"}})
	page := c.get(r.Header.Get("Location"))
	mustContain(t, "signing page", text(page.body), "DEMONSTRACJA", "nie pochodzi od prawdziwego integratora")
	if !strings.Contains(page.body, `id="sign-demo"`) {
		t.Error("no demo notice on the signing page")
	}
	// a real integrator's request has no such notice
	real := e.submit("<a/>", "a.xml")
	if p := c.get("/sign/" + real.ID); strings.Contains(p.body, `id="sign-demo"`) {
		t.Error("a real integrator's request is marked as a demo")
	}
	c2 := e.newClient()
	c2.login("anna", holderPassword)
	_, links := demoSigned(t, e, c2)
	x := c2.get(links[0])
	mustContain(t, "signed application", x.body, `demonstracja="true"`, "Dokument demonstracyjny")
}
