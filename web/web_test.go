package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/web"
)

// anonymousPages are the pages anyone can open.
var anonymousPages = []string{"/", "/register", "/register/confirm", "/login", "/password-reset", "/verify", "/demo"}

func TestPagesInBothLanguages(t *testing.T) {
	e := newEnv(t)
	c := e.newClient()
	for _, p := range anonymousPages {
		for _, lang := range []string{"pl", "en"} {
			t.Run(p+"/"+lang, func(t *testing.T) {
				r := c.get(p, "Accept-Language", lang)
				if r.StatusCode != http.StatusOK {
					t.Fatalf("status %d", r.StatusCode)
				}
				checkPage(t, r, lang)
			})
		}
	}
}

// checkPage applies the rules every HTML page follows: language, headers, labels, one h1, no missing text.
func checkPage(t *testing.T, r response, lang string) {
	t.Helper()
	if !regexp.MustCompile(`<html lang="` + lang + `">`).MatchString(r.body) {
		t.Errorf("no <html lang=%q>", lang)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	checkHeaders(t, r.Header)
	if strings.Contains(r.body, "⟦") {
		t.Errorf("untranslated text: %s", regexp.MustCompile(`⟦[^⟧]*⟧`).FindAllString(r.body, -1))
	}
	if n := strings.Count(r.body, "<h1"); n != 1 {
		t.Errorf("%d h1 elements", n)
	}
	checkLabels(t, r.body)
}

func checkHeaders(t *testing.T, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "frame-src 'self'", "object-src 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows too much", csp)
	}
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
		if h.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
}

// checkLabels: every input, select and textarea that a person fills has a <label for> or an aria-label, ids are
// unique, and every aria-describedby points at an element.
func checkLabels(t *testing.T, page string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	labels, ids := map[string]bool{}, map[string]int{}
	var controls []map[string]string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := map[string]string{"_tag": n.Data}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			if id := a["id"]; id != "" {
				ids[id]++
			}
			switch n.Data {
			case "label":
				labels[a["for"]] = true
			case "input", "select", "textarea":
				if typ := a["type"]; typ != "hidden" && typ != "submit" && typ != "button" {
					controls = append(controls, a)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, a := range controls {
		if a["aria-label"] == "" && a["aria-labelledby"] == "" && (a["id"] == "" || !labels[a["id"]]) {
			t.Errorf("unlabelled %s name=%q", a["_tag"], a["name"])
		}
		for _, d := range strings.Fields(a["aria-describedby"]) {
			if ids[d] == 0 {
				t.Errorf("%s name=%q: aria-describedby %q points nowhere", a["_tag"], a["name"], d)
			}
		}
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
}

func TestStartPageLinks(t *testing.T) {
	e := newEnv(t)
	c := e.newClient()
	for _, lang := range []string{"pl", "en"} {
		body := c.get("/", "Accept-Language", lang).body
		for _, href := range []string{`href="/register"`, `href="/login"`, `href="/verify"`, `href="/demo"`, `href="/officer"`, `href="/?lang=`} {
			if !strings.Contains(body, href) {
				t.Errorf("%s start page lacks %s", lang, href)
			}
		}
	}
}

func TestLanguageNegotiation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ header, want string }{
		{"", "pl"}, {"pl", "pl"}, {"en", "en"}, {"en-US,en;q=0.9", "en"}, {"de, en;q=0.5, pl;q=0.8", "pl"},
		{"fr", "pl"}, {"pl;q=0, en;q=0.1", "en"}, {"EN-gb", "en"}, {"en;q=bad, pl", "pl"},
	} {
		t.Run(tc.header, func(t *testing.T) {
			r := e.newClient().get("/", "Accept-Language", tc.header)
			if !strings.Contains(r.body, `<html lang="`+tc.want+`">`) {
				t.Errorf("Accept-Language %q: want %s", tc.header, tc.want)
			}
			if r.Header.Get("Content-Language") != tc.want {
				t.Errorf("Content-Language %q", r.Header.Get("Content-Language"))
			}
		})
	}
	t.Run("the switch is remembered over Accept-Language", func(t *testing.T) {
		c := e.newClient()
		r := c.get("/?lang=en", "Accept-Language", "pl")
		if !strings.Contains(r.body, `<html lang="en">`) || !strings.Contains(r.body, `href="/?lang=pl"`) {
			t.Fatal("?lang=en did not switch")
		}
		if r := c.get("/register", "Accept-Language", "pl"); !strings.Contains(r.body, `<html lang="en">`) {
			t.Error("the choice was not remembered")
		}
		if r := c.get("/login?lang=xx", "Accept-Language", "pl"); !strings.Contains(r.body, `<html lang="en">`) {
			t.Error("an unknown ?lang changed the language")
		}
	})
}

func TestCrossSitePostsRefused(t *testing.T) {
	e := newEnv(t)
	posts := []string{"/register", "/register/confirm", "/register/resend", "/login", "/logout", "/profile/contact",
		"/profile/contact/resend", "/profile/extend/code", "/profile/extend", "/profile/revoke", "/sign/x/code",
		"/sign/x/confirm", "/sign/x/cancel", "/demo", "/officer/confirm", "/officer/decline", "/verify",
		"/password-reset", "/password-reset/confirm"}
	c := e.newClient()
	token := c.csrf()
	// another token: the first character changed (a fixed "x" equals the token one time in 64)
	other := "x" + token[1:]
	if token[0] == 'x' {
		other = "y" + token[1:]
	}
	for _, p := range posts {
		t.Run(p, func(t *testing.T) {
			for _, h := range []map[string]string{
				{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
				{"Sec-Fetch-Site": "cross-site"},
				{"Origin": "https://evil.example"},
				{"Sec-Fetch-Site": "same-site", "Origin": "https://sub.127.0.0.1"},
			} {
				req, _ := http.NewRequest("POST", e.srv.URL+p, strings.NewReader("csrf="+token+"&login=a&password=b"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				for k, v := range h {
					req.Header.Set(k, v)
				}
				if r := c.do(req); r.StatusCode != http.StatusForbidden {
					t.Errorf("%v: %d, want 403", h, r.StatusCode)
				}
			}
			// same origin, but without the token or with another browser's token
			for _, form := range []url.Values{{"csrf": {""}}, {"csrf": {other}}} {
				if r := c.post(p, form); r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "Formularz wygasł") {
					t.Errorf("token %q: %d, want 403", form.Get("csrf"), r.StatusCode)
				}
			}
		})
	}
	t.Run("same-origin browser post with the token passes", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader("csrf="+token+"&login=nobody&password=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", e.srv.URL)
		if r := c.do(req); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401 (wrong password)", r.StatusCode)
		}
	})
}

func TestCookies(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	for _, secure := range []bool{false, true} {
		h, err := web.New(web.Config{Profiles: e.profiles, Signing: e.signing, Clock: e.clock, Secure: secure})
		if err != nil {
			t.Fatal(err)
		}
		get := httptest.NewRecorder()
		h.ServeHTTP(get, httptest.NewRequest("GET", "/login", nil))
		var csrf *http.Cookie
		for _, ck := range get.Result().Cookies() {
			if strings.HasSuffix(ck.Name, "ts_csrf") {
				csrf = ck
			}
		}
		if csrf == nil || !csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || csrf.Secure != secure ||
			(secure && csrf.Name != "__Host-ts_csrf") {
			t.Fatalf("secure=%v: CSRF cookie %+v", secure, csrf)
		}
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"csrf": {csrf.Value}, "login": {"anna"},
			"password": {holderPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(csrf)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/profile" {
			t.Fatalf("secure=%v: login %d %s", secure, w.Code, w.Header().Get("Location"))
		}
		var sess *http.Cookie
		for _, ck := range w.Result().Cookies() {
			if strings.HasSuffix(ck.Name, "ts_session") {
				sess = ck
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure != secure || sess.Path != "/" ||
			sess.MaxAge != 0 || !strings.HasPrefix(sess.Value, "tss_") || (secure && sess.Name != "__Host-ts_session") {
			t.Errorf("secure=%v: session cookie %+v", secure, sess)
		}
		if secure && w.Header().Get("Strict-Transport-Security") == "" {
			t.Error("no HSTS with Secure")
		}
	}
}

func TestRegistration(t *testing.T) {
	e := newEnv(t)
	c := e.newClient()
	valid := url.Values{"login": {"jan_k"}, "password": {"Zielony-Las-2026"}, "password2": {"Zielony-Las-2026"},
		"firstName": {"Jan"}, "surname": {"Kowalski"}, "pesel": {"44051401359"}, "email": {"jan@example.test"},
		"phone": {"500100200"}, "codeChannel": {"sms"}}
	with := func(kv ...string) url.Values {
		f := url.Values{}
		for k, v := range valid {
			f[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		lang   string
		fields map[string]string // field → message part
	}{
		{"bad PESEL checksum", with("pesel", "44051401358"), "pl", map[string]string{"pesel": "cyfrą kontrolną"}},
		{"impossible date", with("pesel", "02381307589"), "en", map[string]string{"pesel": "valid check digit and date of birth"}},
		{"too young", with("pesel", "24262000006"), "pl", nil},
		{"weak password", with("password", "haslo", "password2", "haslo"), "pl", map[string]string{"password": "co najmniej 8 znaków"}},
		{"password without a digit", with("password", "ZielonyLas", "password2", "ZielonyLas"), "en", map[string]string{"password": "digit or special character"}},
		{"common password", with("password", "Password1!", "password2", "Password1!"), "pl", map[string]string{"password": "zbyt popularne"}},
		{"password with the login", with("login", "kasztan", "password", "Mój-kasztan-Las1", "password2", "Mój-kasztan-Las1"), "pl", map[string]string{"password": "loginu"}},
		{"passwords differ", with("password2", "Zielony-Las-2027"), "pl", map[string]string{"password2": "nie są takie same"}},
		{"everything wrong at once", url.Values{"login": {"a b"}, "pesel": {"1"}, "email": {"x"}, "phone": {"1"}, "codeChannel": {"fax"}}, "pl",
			map[string]string{"login": "Login", "password": "8 znaków", "firstName": "wymagane", "surname": "wymagane",
				"pesel": "PESEL", "email": "e-mail", "phone": "telefonu", "codeChannel": "SMS lub e-mail"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", c.csrf())
			r := c.postLang("/register", tc.form, tc.lang)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", r.StatusCode)
			}
			checkPage(t, r, tc.lang)
			if !strings.Contains(r.body, "error-summary") {
				t.Error("no error summary")
			}
			if strings.Contains(r.body, "Zielony-Las") || strings.Contains(r.body, `value="haslo"`) {
				t.Error("the password was echoed back")
			}
			if tc.name == "too young" && !strings.Contains(r.body, "13 lat") {
				t.Errorf("no age message")
			}
			for field, part := range tc.fields {
				m := regexp.MustCompile(`(?s)<p class="field-error" id="` + field + `-error">([^<]*)</p>`).FindStringSubmatch(r.body)
				if field == "codeChannel" {
					m = regexp.MustCompile(`(?s)id="codeChannel".*?<p class="field-error">([^<]*)</p>`).FindStringSubmatch(r.body)
				}
				if m == nil || !strings.Contains(html.UnescapeString(m[1]), part) {
					t.Errorf("field %s: want a message with %q, got %v", field, part, m)
				}
				if field != "codeChannel" && !regexp.MustCompile(`id="`+field+`"[^>]*aria-invalid="true"`).MatchString(r.body) {
					t.Errorf("field %s not marked aria-invalid", field)
				}
			}
		})
	}

	t.Run("filed, then the contact code", func(t *testing.T) {
		r := c.post("/register", with())
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/register/confirm?m=registered" {
			t.Fatalf("register: %d %s %s", r.StatusCode, r.Header.Get("Location"), text(r.body))
		}
		page := c.get("/register/confirm?m=registered")
		num := regexp.MustCompile(`PZ-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`).FindString(page.body)
		if num == "" || !strings.Contains(page.body, "Wysłaliśmy Ci kod") {
			t.Fatalf("confirm page: %s", text(page.body))
		}
		if r := c.post("/register/confirm", url.Values{"code": {"12"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "od 6 do 10 cyfr") {
			t.Errorf("malformed code: %d", r.StatusCode)
		}
		sms := e.code("+48500100200")
		wrong := "000000"
		if sms == wrong {
			wrong = "111111"
		}
		if r := c.post("/register/confirm", url.Values{"code": {wrong}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Nieprawidłowy kod") {
			t.Errorf("wrong code: %d", r.StatusCode)
		}
		e.clock.Add(2 * time.Second)
		if r := c.post("/register/resend", nil); r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "codeResent") {
			t.Fatalf("resend: %d", r.StatusCode)
		}
		if e.code("+48500100200") == sms {
			t.Log("the new code happens to equal the old one")
		}
		if r := c.post("/register/confirm", url.Values{"code": {e.code("+48500100200")}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("right code: %d %s", r.StatusCode, text(r.body))
		}
		done := c.get("/register/confirm?m=contactConfirmed")
		if !strings.Contains(done.body, num) || !strings.Contains(done.body, "14 dni") {
			t.Errorf("done page: %s", text(done.body))
		}
		p, err := e.profiles.GetByApplicationNumber(bg, num)
		if err != nil || !p.ContactConfirmed {
			t.Errorf("profile %+v %v", p, err)
		}
	})

	t.Run("a taken PESEL answers like a new one", func(t *testing.T) {
		c2 := e.newClient()
		r := c2.post("/register", with("login", "jan_inny"))
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/register/confirm?m=registered" {
			t.Fatalf("duplicate: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		if page := c2.get("/register/confirm"); !regexp.MustCompile(`PZ-[0-9A-Z]{4}`).MatchString(page.body) {
			t.Error("the duplicate's page differs")
		}
	})
}

func (c *client) postLang(path string, form url.Values, lang string) response {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", lang)
	return c.do(req)
}

func TestLoginProfileAndRevoke(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	c := e.newClient()
	if r := c.get("/profile"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Fprofile" {
		t.Fatalf("anonymous profile: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	r := c.post("/login", url.Values{"login": {"anna"}, "password": {"wrong-Password1"}})
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, "Nieprawidłowy login lub hasło") {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	if !strings.Contains(r.body, `value="anna"`) || strings.Contains(r.body, "wrong-Password1") {
		t.Error("the login should be kept and the password not")
	}
	for _, next := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`, "/\r\nx"} {
		cc := e.newClient()
		r := cc.post("/login", url.Values{"login": {"anna"}, "password": {holderPassword}, "next": {next}})
		if loc := r.Header.Get("Location"); loc != "/profile" {
			t.Errorf("next %q redirected to %q", next, loc)
		}
	}
	c.login("anna", holderPassword)
	p := c.get("/profile")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("profile %d", p.StatusCode)
	}
	checkPage(t, p, "pl")
	mustContain(t, "profile", text(p.body), "aktywny", "44051401359", "Anna Testowa", "Ważny do", "w punkcie potwierdzającym")

	t.Run("extend near the expiry", func(t *testing.T) {
		if r := c.post("/profile/extend/code", nil); r.StatusCode != http.StatusConflict || !strings.Contains(r.body, "nie można teraz przedłużyć") {
			t.Fatalf("early extension: %d", r.StatusCode)
		}
		prof, _ := e.profiles.GetByApplicationNumber(bg, mustAppNo(t, e, "anna"))
		old := *prof.Expires
		shift := old.Sub(e.clock.Now()) - 30*24*time.Hour
		e.clock.Add(shift)
		defer e.clock.Add(-shift)
		c.login("anna", holderPassword) // the session's absolute lifetime is long past
		if r := c.post("/profile/extend/code", nil); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile?m=extendSent" {
			t.Fatalf("extension code: %d %s", r.StatusCode, text(r.body))
		}
		page := c.get("/profile?m=extendSent")
		if !strings.Contains(page.body, `action="/profile/extend"`) {
			t.Fatal("no code field after the code was sent")
		}
		checkLabels(t, page.body)
		if r := c.post("/profile/extend", url.Values{"code": {e.code("anna@example.test")}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("extend: %d %s", r.StatusCode, text(r.body))
		}
		now, _ := e.profiles.GetByApplicationNumber(bg, prof.ApplicationNumber)
		if !now.Expires.After(old) {
			t.Errorf("expiry %v not after %v", now.Expires, old)
		}
	})

	t.Run("revoke needs the box ticked", func(t *testing.T) {
		c.login("anna", holderPassword)
		if r := c.post("/profile/revoke", nil); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("revoke without the box: %d", r.StatusCode)
		}
		r := c.post("/profile/revoke", url.Values{"confirm": {"yes"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/?m=revoked" {
			t.Fatalf("revoke: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		if home := c.get("/?m=revoked"); !strings.Contains(home.body, "Profil zaufany został unieważniony") || strings.Contains(home.body, "Wyloguj") {
			t.Error("after revocation still logged in or no notice")
		}
		if r := c.post("/login", url.Values{"login": {"anna"}, "password": {holderPassword}}); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("login after revocation: %d", r.StatusCode)
		}
	})
}

func mustAppNo(t *testing.T, e *env, login string) string {
	t.Helper()
	for _, m := range e.sent.Messages() {
		if n := regexp.MustCompile(`PZ-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`).FindString(m.Body); n != "" && m.To == login+"@example.test" {
			return n
		}
	}
	t.Fatalf("no application number for %s", login)
	return ""
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	c := e.newClient()
	c.login("anna", holderPassword)
	if r := c.post("/logout", nil); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/?m=loggedOut" {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if r := c.get("/profile"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("profile after logout: %d", r.StatusCode)
	}
}

func TestOfficer(t *testing.T) {
	e := newEnv(t)
	reg, err := e.profiles.Register(bg, profile.Application{Login: "ola", Password: holderPassword, FirstName: "Ola",
		Surname: "Nowak", PESEL: "02211307589", Email: "ola@example.test", Phone: "+48500100200", CodeChannel: profile.ChannelEmail})
	if err != nil {
		t.Fatal(err)
	}
	o := e.newClient()
	if r := o.get("/officer"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Fofficer" {
		t.Fatalf("anonymous: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := o.get("/login?next=%2Fofficer"); !strings.Contains(r.body, "jako urzędnik") {
		t.Error("the login page does not say it is for officers")
	}
	r := o.post("/login", url.Values{"login": {officerLogin}, "password": {officerPass}, "next": {"/officer"}})
	if r.Header.Get("Location") != "/officer" {
		t.Fatalf("officer login went to %s", r.Header.Get("Location"))
	}
	if r := o.get("/profile"); r.StatusCode != http.StatusForbidden {
		t.Errorf("officer on /profile: %d", r.StatusCode)
	}
	page := o.get("/officer")
	checkPage(t, page, "pl")
	if r := o.get("/officer?applicationNumber=PZ-0000-0000-0000"); r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "Nie znaleziono wniosku") {
		t.Errorf("unknown number: %d", r.StatusCode)
	}
	// before the contact is confirmed the page says so and offers no confirmation
	app := o.get("/officer?applicationNumber=" + url.QueryEscape(strings.ToLower(reg.ApplicationNumber)))
	mustContain(t, "application", text(app.body), "Ola", "Nowak", "02211307589", "13.01.2002", "nie potwierdził jeszcze kanału")
	if strings.Contains(app.body, `action="/officer/confirm"`) {
		t.Error("confirmation offered before the contact was confirmed")
	}
	if err := e.profiles.ConfirmContact(bg, reg.ID, e.code("ola@example.test")); err != nil {
		t.Fatal(err)
	}
	app = o.get("/officer?applicationNumber=" + url.QueryEscape(reg.ApplicationNumber))
	checkPage(t, app, "pl")
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"documentType": {"id-card"}, "documentNumber": {"ABC123456"}}, "zgadzają się z dokumentem"},
		{url.Values{"documentType": {"id-card"}, "documentNumber": {"AB123"}, "checked": {"yes"}}, "3 litery i 6 cyfr"},
		{url.Values{"documentType": {"passport"}, "documentNumber": {"!"}, "checked": {"yes"}}, "od 5 do 20 liter"},
		{url.Values{"documentType": {"driving-licence"}, "documentNumber": {"ABC123456"}, "checked": {"yes"}}, "dowód osobisty lub paszport"},
	} {
		tc.form.Set("applicationNumber", reg.ApplicationNumber)
		if r := o.post("/officer/confirm", tc.form); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, tc.want) {
			t.Errorf("%v: %d, want a message with %q", tc.form, r.StatusCode, tc.want)
		}
	}
	if r := o.post("/officer/decline", url.Values{"applicationNumber": {reg.ApplicationNumber}, "reason": {"document-mismatch"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("decline: %d %s", r.StatusCode, text(r.body))
	}
	if r := o.get("/officer?applicationNumber=" + url.QueryEscape(reg.ApplicationNumber) + "&m=declined"); !strings.Contains(r.body, "Odmowę potwierdzenia zapisano") {
		t.Error("no notice after declining")
	}
	r = o.post("/officer/confirm", url.Values{"applicationNumber": {reg.ApplicationNumber}, "documentType": {"id-card"},
		"documentNumber": {"abc 123456"}, "checked": {"yes"}})
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "m=confirmed") {
		t.Fatalf("confirm: %d %s", r.StatusCode, text(r.body))
	}
	done := o.get(r.Header.Get("Location"))
	mustContain(t, "confirmed", text(done.body), "Profil zaufany został potwierdzony", "aktywny")
	if r := o.post("/officer/confirm", url.Values{"applicationNumber": {reg.ApplicationNumber}, "documentType": {"id-card"},
		"documentNumber": {"ABC123456"}, "checked": {"yes"}}); r.StatusCode != http.StatusConflict || !strings.Contains(r.body, "nie czeka na potwierdzenie") {
		t.Errorf("second confirmation: %d", r.StatusCode)
	}
	// a holder is no officer
	h := e.newClient()
	h.login("ola", holderPassword)
	if r := h.get("/officer"); r.StatusCode != http.StatusForbidden {
		t.Errorf("holder on /officer: %d", r.StatusCode)
	}
	if r := h.post("/officer/confirm", url.Values{"applicationNumber": {reg.ApplicationNumber}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("holder confirming: %d", r.StatusCode)
	}
}

func TestSigningPage(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	e.holder("piotr", "02270803624")
	req := e.submit(`<doc a="&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"><![CDATA[<script>alert(1)</script>]]><img src="x" onerror="alert(3)"/></doc>`, `<img src=x onerror=alert(4)>.xml`)
	c := e.newClient()
	if r := c.get(req.SignURL); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?next="+url.QueryEscape(req.SignURL) {
		t.Fatalf("anonymous: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := c.get("/login?next=" + url.QueryEscape(req.SignURL)); !strings.Contains(r.body, "aby zobaczyć dokument") {
		t.Error("the login page does not say why")
	}
	r := c.post("/login", url.Values{"login": {"anna"}, "password": {holderPassword}, "next": {req.SignURL}})
	if r.Header.Get("Location") != req.SignURL {
		t.Fatalf("after login to %s", r.Header.Get("Location"))
	}
	page := c.get(req.SignURL)
	checkPage(t, page, "pl")
	if strings.Contains(page.body, "<script>alert") || strings.Contains(page.body, "<img src=x") || strings.Count(page.body, "<script") != 1 {
		t.Fatal("the document or its name reached the page unescaped")
	}
	// XML text is shown re-escaped as XML, and the whole as HTML text
	mustContain(t, "escaped document", page.body, "&amp;lt;script&amp;gt;alert(1)", "&lt;img onerror=&#34;alert(3)&#34; src=&#34;x&#34;/&gt;", // canonical attribute order
		"&lt;img src=x onerror=alert(4)&gt;.xml")
	// a document that is not well-formed is shown as it is, as text
	bad := e.submit(`<x><script>alert(5)</script>`, "bad.xml")
	if b := c.get(bad.SignURL).body; strings.Contains(b, "<script>alert") || !strings.Contains(b, "&lt;x&gt;&lt;script&gt;alert(5)&lt;/script&gt;") {
		t.Error("a malformed document was not shown escaped")
	}
	mustContain(t, "page", text(page.body), "e-Urząd Testowy", "Recepta nr 1/2026", strings.ToUpper(profile.DisplayPhrase(req.Phrase)))
	if strings.Contains(page.body, `action="/sign/`+req.ID+`/confirm"`) {
		t.Error("code field before a code was asked for")
	}
	doc := c.get(req.SignURL + "/documents/" + req.ID)
	if doc.StatusCode != http.StatusOK || !strings.HasPrefix(doc.Header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(doc.Header.Get("Content-Security-Policy"), "sandbox") || !strings.Contains(doc.body, "<doc") {
		t.Errorf("XML document: %d %v", doc.StatusCode, doc.Header)
	}
	if r := c.get(req.SignURL + "/documents/other"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown document: %d", r.StatusCode)
	}
	if r := c.get("/sign/nosuchrequest"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown request: %d", r.StatusCode)
	}
	if r := c.post(req.SignURL+"/code", nil); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != req.SignURL+"?m=codeSent" {
		t.Fatalf("code: %d %s", r.StatusCode, text(r.body))
	}
	page = c.get(req.SignURL + "?m=codeSent")
	checkPage(t, page, "pl")
	mustContain(t, "code page", text(page.body), "Wysłaliśmy kod autoryzacyjny", "e-mailem na adres a•••@example.test")
	if !strings.Contains(page.body, `action="/sign/`+req.ID+`/confirm"`) {
		t.Fatal("no code field after the code was sent")
	}
	// another holder is kept out once the request is taken up
	p := e.newClient()
	p.login("piotr", holderPassword)
	if r := p.get(req.SignURL); r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "inna osoba") {
		t.Errorf("other holder: %d", r.StatusCode)
	}
	if r := p.post(req.SignURL+"/confirm", url.Values{"code": {e.code("anna@example.test")}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("other holder with the right code: %d", r.StatusCode)
	}
	// an officer cannot sign
	o := e.newClient()
	o.login(officerLogin, officerPass)
	if r := o.get(req.SignURL); r.StatusCode != http.StatusForbidden {
		t.Errorf("officer: %d", r.StatusCode)
	}
	code := e.code("anna@example.test")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i, want := range []string{"Nieprawidłowy kod", "Nieprawidłowy kod", "Zbyt wiele błędnych prób", "Nieprawidłowy kod"} {
		try := wrong
		if i == 3 {
			try = code // the right code, but it died with the third wrong entry
		}
		r := c.post(req.SignURL+"/confirm", url.Values{"code": {try}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, want) {
			t.Errorf("entry %d: %d, want %q", i+1, r.StatusCode, want)
		}
	}
	if r := c.post(req.SignURL+"/confirm", url.Values{"code": {"12ab"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "od 6 do 10 cyfr") {
		t.Errorf("malformed code: %d", r.StatusCode)
	}
	e.clock.Add(2 * time.Second)
	c.post(req.SignURL+"/code", nil)
	r = c.post(req.SignURL+"/confirm", url.Values{"code": {e.code("anna@example.test")[:3] + " " + e.code("anna@example.test")[3:]}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != e.integrator.URL+"/ok" {
		t.Fatalf("sign: %d %s %s", r.StatusCode, r.Header.Get("Location"), text(r.body))
	}
	signed, _, err := e.signing.SignedDocument(bg, e.client.ID, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep := verify.XML("x.xml", signed, e.policy, verify.XMLOptions{}); rep.Indication != verify.TotalPassed {
		t.Errorf("signed: %s", rep.Indication)
	}
	// after signing: the page says so and sends back to the integrator; actions go back there too
	done := c.get(req.SignURL)
	mustContain(t, "signed page", text(done.body), "Dokument został podpisany")
	if strings.Contains(done.body, "/code\"") {
		t.Error("a signed request still offers a code")
	}
	if r := c.post(req.SignURL+"/code", nil); r.Header.Get("Location") != e.integrator.URL+"/ok" {
		t.Errorf("code after signing: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestSigningPDFAndCancel(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	pdfDoc := string(pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{}))
	req := e.submit(pdfDoc, "wniosek.pdf")
	c := e.newClient()
	c.login("anna", holderPassword)
	page := c.get(req.SignURL)
	frame := regexp.MustCompile(`<iframe class="pdf" src="([^"]+)" title="([^"]+)"`).FindStringSubmatch(page.body)
	if frame == nil || !strings.Contains(frame[2], "wniosek.pdf") {
		t.Fatalf("no PDF frame with a title: %s", page.body)
	}
	inline := c.get(frame[1])
	if inline.StatusCode != http.StatusOK || inline.Header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(inline.Header.Get("Content-Disposition"), "inline") || inline.Header.Get("X-Frame-Options") != "SAMEORIGIN" ||
		!strings.Contains(inline.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'") || inline.body != pdfDoc {
		t.Errorf("inline PDF: %d %v", inline.StatusCode, inline.Header)
	}
	dl := c.get(frame[1] + "?download=1")
	if cd := dl.Header.Get("Content-Disposition"); cd != `attachment; filename=wniosek.pdf` && cd != `attachment; filename="wniosek.pdf"` {
		t.Errorf("download: %v", dl.Header)
	}
	r := c.post(req.SignURL+"/cancel", nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != e.integrator.URL+"/failed" {
		t.Fatalf("cancel: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	mustContain(t, "cancelled page", text(c.get(req.SignURL).body), "Podpisywanie anulowano")
	if r := c.post(req.SignURL+"/confirm", url.Values{"code": {"123456"}}); r.Header.Get("Location") != e.integrator.URL+"/failed" {
		t.Errorf("confirm after cancel: %s", r.Header.Get("Location"))
	}
}

func TestExpiredRequest(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	req := e.submit(prescription, "recepta.xml")
	c := e.newClient()
	c.login("anna", holderPassword)
	c.post(req.SignURL+"/code", nil)
	e.clock.Add(11 * time.Minute)
	r := c.post(req.SignURL+"/confirm", url.Values{"code": {e.code("anna@example.test")}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != e.integrator.URL+"/failed" {
		t.Fatalf("expired: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	page := c.get(req.SignURL)
	mustContain(t, "expired page", text(page.body), "Czas na podpis minął", "Wróć do usługi")
	if !strings.Contains(page.body, `href="`+e.integrator.URL+`/failed"`) {
		t.Error("no way back to the integrator")
	}
}

func TestDemo(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	c := e.newClient()
	c.login("anna", holderPassword)
	pdfDoc := pdftest.Build(pdftest.Simple(1, "Zalacznik"), 1, pdftest.Options{})
	post := func(fields map[string]string, attachment []byte, name string) response {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("csrf", c.csrf())
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		if attachment != nil {
			fw, _ := mw.CreateFormFile("attachment", name)
			fw.Write(attachment)
		}
		mw.Close()
		req, _ := http.NewRequest("POST", c.base+"/demo", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return c.do(req)
	}
	good := map[string]string{"office": "testowo", "matter": "residence", "firstName": "Anna", "surname": "Testowa",
		"address": "ul. Polna 1, Testowo", "content": `Treść & "cudzysłów" <b>`}
	if r := post(map[string]string{"office": "mars", "matter": "x"}, nil, ""); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("invalid demo form: %d", r.StatusCode)
	} else {
		checkPage(t, r, "pl")
	}
	if r := post(good, []byte("not a pdf"), "a.pdf"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "plikiem PDF") {
		t.Errorf("non-PDF attachment: %d", r.StatusCode)
	}
	// a PDF the seal could never sign is refused on the form, with what is wrong, before any code
	noPages := []byte("%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" +
		"trailer<</Root 1 0 R/Size 3>>\n%%EOF\n")
	if r := post(good, noPages, "pusty.pdf"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "nie da się podpisać") {
		t.Errorf("unsignable PDF attachment: %d %s", r.StatusCode, text(r.body))
	}
	r := post(good, pdfDoc, `..\..\zał"ącznik.pdf`)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/sign/") {
		t.Fatalf("demo: %d %s", r.StatusCode, text(r.body))
	}
	signURL := r.Header.Get("Location")
	page := c.get(signURL)
	mustContain(t, "batch page", text(page.body), "Dokument 1 z 2", "Dokument 2 z 2", "wniosek.xml", "załącznik.pdf",
		"Urząd Gminy – serwis demonstracyjny", "Treść &amp;amp; &#34;cudzysłów&#34; &amp;lt;b&amp;gt;")
	c.post(signURL+"/code", nil)
	r = c.post(signURL+"/confirm", url.Values{"code": {e.code("anna@example.test")}})
	back := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, e.srv.URL+"/demo/result?case=") {
		t.Fatalf("after signing: %d %s", r.StatusCode, back)
	}
	u, _ := url.Parse(back)
	res := c.get(u.RequestURI())
	checkPage(t, res, "pl")
	links := regexp.MustCompile(`href="(/demo/result/[a-z2-7]+/download)"`).FindAllStringSubmatch(res.body, -1)
	if len(links) != 2 || !strings.Contains(res.body, "Wniosek został podpisany i złożony") {
		t.Fatalf("result page: %s", text(res.body))
	}
	x := c.get(links[0][1])
	if !strings.Contains(x.Header.Get("Content-Disposition"), "wniosek.podpisany.xml") {
		t.Errorf("XML download: %v", x.Header)
	}
	rep := verify.XML("w.xml", []byte(x.body), e.policy, verify.XMLOptions{})
	if rep.Indication != verify.TotalPassed || rep.Signatures[0].TrustedProfile.PESEL != "44051401359" {
		t.Errorf("signed application: %+v", rep)
	}
	p := c.get(links[1][1])
	if prep := verify.PDF(bg, strings.NewReader(p.body), int64(len(p.body)), e.policy); prep.Indication != verify.TotalPassed {
		t.Errorf("signed attachment: %+v", prep)
	}
	// another browser has no such case
	other := e.newClient()
	if r := other.get(u.RequestURI()); r.StatusCode != http.StatusNotFound {
		t.Errorf("another browser's result page: %d", r.StatusCode)
	}
	if r := other.get(links[0][1]); r.StatusCode != http.StatusNotFound {
		t.Errorf("another browser's download: %d", r.StatusCode)
	}
}

func TestDemoOff(t *testing.T) {
	e := newEnv(t)
	h, err := web.New(web.Config{Profiles: e.profiles, Signing: e.signing, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/demo", "/demo/result?case=x"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != http.StatusNotFound {
			t.Errorf("%s without a demo client: %d", p, w.Code)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if strings.Contains(w.Body.String(), `href="/demo"`) {
		t.Error("the start page links to the demo that is off")
	}
}

func TestVerifyPage(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	req := e.submit(prescription, "recepta.xml")
	c := e.newClient()
	c.login("anna", holderPassword)
	c.post(req.SignURL+"/code", nil)
	c.post(req.SignURL+"/confirm", url.Values{"code": {e.code("anna@example.test")}})
	signed, _, err := e.signing.SignedDocument(bg, e.client.ID, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	upload := func(c *client, name string, data []byte, output string) response {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("csrf", c.csrf())
		if output != "" {
			mw.WriteField("output", output)
		}
		if data != nil {
			fw, _ := mw.CreateFormFile("file", name)
			fw.Write(data)
		}
		mw.Close()
		r, _ := http.NewRequest("POST", c.base+"/verify", &b)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		return c.do(r)
	}
	anon := e.newClient()
	if r := upload(anon, "", nil, ""); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Wybierz plik") {
		t.Errorf("no file: %d", r.StatusCode)
	}
	r := upload(anon, "recepta.podpisana.xml", signed, "page")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d", r.StatusCode)
	}
	checkPage(t, r, "pl")
	mustContain(t, "report", text(r.body), "Podpis prawidłowy", "TOTAL_PASSED", "Anna Testowa", "44051401359", "anna",
		"XAdES-B-B", "Budowa podpisu", "poprawnie", "recepta.podpisana.xml")
	link := regexp.MustCompile(`href="(/verify/reports/[A-Za-z0-9_-]+)"`).FindStringSubmatch(r.body)
	if link == nil {
		t.Fatal("no download link")
	}
	dl := anon.get(link[1], "Accept-Language", "en")
	checkReportDownload(t, dl)
	mustContain(t, "downloaded report", text(dl.body), "Signature valid", "44051401359")
	if r := anon.get("/verify/reports/nosuchreport"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown report: %d", r.StatusCode)
	}
	// output=html sends the report at once
	checkReportDownload(t, upload(anon, "r.xml", signed, "html"))
	// a changed document fails
	tampered := bytes.Replace(signed, []byte("Amoxicillinum"), []byte("Amoxicillinux"), 1)
	r = upload(anon, "tampered.xml", tampered, "")
	mustContain(t, "tampered", text(r.body), "Podpis nieprawidłowy", "TOTAL_FAILED", "błąd")
	// not a signed file at all
	r = upload(anon, "notes.txt", []byte("hello"), "")
	if r.StatusCode != http.StatusOK {
		t.Errorf("garbage: %d", r.StatusCode)
	}
	mustContain(t, "not XML or PDF", text(r.body), "Nie znaleziono podpisu", "NO_SIGNATURE_FOUND", "to nie jest dokument XML ani PDF")
	// PDF
	pdfDoc := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	r = upload(anon, "plain.pdf", pdfDoc, "")
	mustContain(t, "unsigned PDF", text(r.body), "Nie znaleziono podpisu", "NO_SIGNATURE_FOUND", "plain.pdf")
}

// checkReportDownload: a self-contained HTML attachment whose CSP allows exactly its inline style.
func checkReportDownload(t *testing.T, r response) {
	t.Helper()
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment; filename=") {
		t.Fatalf("report download: %d %v", r.StatusCode, r.Header)
	}
	checkSelfContained(t, []byte(r.body))
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(r.body)
	if style == nil {
		t.Fatal("no inline style")
	}
	sum := sha256.Sum256([]byte(style[1]))
	if want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(r.Header.Get("Content-Security-Policy"), want) {
		t.Errorf("CSP %q does not allow the inline style (%s)", r.Header.Get("Content-Security-Policy"), want)
	}
}

func TestStaticAndNotFound(t *testing.T) {
	e := newEnv(t)
	c := e.newClient()
	for _, p := range []string{"/static/app.css", "/static/app.js", "/static/report.css"} {
		r := c.get(p)
		if r.StatusCode != http.StatusOK || len(r.body) < 100 || r.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
		if strings.Contains(r.body, "http://") || strings.Contains(r.body, "https://") {
			t.Errorf("%s refers to another site", p)
		}
	}
	for _, p := range []string{"/static/", "/static/nope.js", "/nope", "/sign/"} {
		r := c.get(p)
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
	r := c.get("/nope", "Accept-Language", "en")
	checkPage(t, r, "en")
	mustContain(t, "404 page", text(r.body), "There is no such page")
}

func TestUploadTooLarge(t *testing.T) {
	e := newEnv(t)
	h, err := web.New(web.Config{Profiles: e.profiles, Signing: e.signing, Clock: e.clock, MaxUploadBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := e.newClient()
	c.base = srv.URL
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", c.csrf())
	fw, _ := mw.CreateFormFile("file", "big.xml")
	fw.Write(bytes.Repeat([]byte("x"), 3<<20))
	mw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/verify", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := c.do(req); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("3 MB upload with a 1000-byte limit: %d", r.StatusCode)
	}
	// a form post is bounded too
	big := url.Values{"login": {strings.Repeat("a", 300<<10)}}
	if r := c.post("/login", big); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("300 KB form: %d", r.StatusCode)
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := web.New(web.Config{}); err == nil {
		t.Error("New without profiles")
	}
	e := newEnv(t)
	if _, err := web.New(web.Config{Profiles: e.profiles, PublicURL: "ftp://x"}); err == nil {
		t.Error("bad PublicURL accepted")
	}
	// without a signing service the pages still serve registration and verification
	h, err := web.New(web.Config{Profiles: e.profiles})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/sign/abc", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("/sign without signing: %d", w.Code)
	}
	_ = io.Discard
}

type fakeWindows struct{ ws []store.MaintenanceWindow }

func (f fakeWindows) MaintenanceWindows(_ context.Context, t time.Time) ([]store.MaintenanceWindow, error) {
	var out []store.MaintenanceWindow
	for _, w := range f.ws {
		if w.End.After(t) {
			out = append(out, w)
		}
	}
	return out, nil
}

func TestMaintenanceWindow(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	now := e.clock.Now()
	win := fakeWindows{[]store.MaintenanceWindow{{ID: "w1", Start: now.Add(time.Hour), End: now.Add(3 * time.Hour), Message: "Aktualizacja systemu."}}}
	h, err := web.New(web.Config{Profiles: e.profiles, Signing: e.signing, Clock: e.clock, Maintenance: win, DemoClientID: demoClient})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := e.newClient()
	c.base = srv.URL
	c.login("anna", holderPassword)
	req := e.submit(prescription, "recepta.xml")
	home := c.get("/")
	mustContain(t, "announcement", text(home.body), "Planowana przerwa techniczna", "Aktualizacja systemu.")
	e.clock.Add(2 * time.Hour)
	for _, p := range []string{"/login", req.SignURL, "/profile", "/officer"} {
		r := c.get(p)
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" || !strings.Contains(r.body, "niedostępne do") {
			t.Errorf("%s during the window: %d %q", p, r.StatusCode, r.Header.Get("Retry-After"))
		} else {
			checkPage(t, r, "pl")
		}
	}
	if r := c.post("/login", url.Values{"login": {"anna"}, "password": {holderPassword}}); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("login during the window: %d", r.StatusCode)
	}
	if r := c.post(req.SignURL+"/code", nil); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("code during the window: %d", r.StatusCode)
	}
	for _, p := range []string{"/", "/verify", "/register"} {
		if r := c.get(p); r.StatusCode != http.StatusOK {
			t.Errorf("%s during the window: %d", p, r.StatusCode)
		}
	}
	e.clock.Add(2 * time.Hour)
	if r := c.get(req.SignURL); r.StatusCode != http.StatusOK {
		t.Errorf("after the window: %d", r.StatusCode)
	}
}

// The signing page shows what the new signature will cover, nothing else: text inside an existing ds:Signature
// element (which the enveloped signature subtracts) and comments are not covered, so they are not shown.
func TestSigningPageShowsOnlyCoveredContent(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	req := e.submit(`<wniosek><kwota>100 PLN</kwota><!-- komentarz: 5000 PLN -->`+
		`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">Zobowiązuję się zapłacić 9000 PLN</ds:Signature></wniosek>`, "wniosek.xml")
	c := e.newClient()
	c.login("anna", holderPassword)
	page := c.get(req.SignURL)
	checkPage(t, page, "pl")
	body := text(page.body)
	mustContain(t, "page", body, "100 PLN", "Twój podpis ich nie obejmuje")
	for _, hidden := range []string{"9000 PLN", "5000 PLN"} {
		if strings.Contains(body, hidden) {
			t.Errorf("the page shows %q, which the signature will not cover", hidden)
		}
	}
}
