package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/api"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/web"
)

// site is the service as `trustsign serve` mounts it: the REST API under /v1/ and the pages everywhere else, on
// one loopback server, messages kept by a notify.Recorder (svc.Sent).
type site struct {
	svc   *clienttest.Service
	url   string
	clock *settableClock
	dir   string
	opts  clienttest.Options
}

func startSite(t *testing.T, dir string, clock *settableClock, mutate ...func(*clienttest.Options)) *site {
	t.Helper()
	o := clienttest.Options{Dir: dir, Clock: clock, Unstarted: true}
	for _, m := range mutate {
		m(&o)
	}
	svc, err := clienttest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	pages, err := web.New(web.Config{Profiles: svc.Profiles, Signing: svc.Signing, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", svc.Handler)
	mux.Handle("/", pages)
	svc.HTTP.Config.Handler = mux
	svc.HTTP.Start()
	return &site{svc: svc, url: svc.HTTP.URL, clock: clock, dir: dir, opts: o}
}

// restart stops the service and starts it again on the same store (a new process as far as limits go).
func (s *site) restart(t *testing.T) *site {
	t.Helper()
	s.svc.Close()
	o := s.opts
	return startSite(t, s.dir, s.clock, func(n *clienttest.Options) { *n = o })
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (s *site) call(t *testing.T, method, path, body string, header ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, b}
}

type applicant struct {
	login, pesel, email, phone, channel string
}

func (a applicant) json() string {
	b, _ := json.Marshal(map[string]string{"login": a.login, "password": "Napastnik-Haslo-2026", "firstName": "Adam",
		"surname": "Napastnik", "pesel": a.pesel, "email": a.email, "phone": a.phone, "codeChannel": a.channel})
	return string(b)
}

type registered struct {
	ID                string `json:"id"`
	ApplicationNumber string `json:"applicationNumber"`
	Status            string `json:"status"`
	ApplicationSecret string `json:"applicationSecret"`
}

func (s *site) register(t *testing.T, a applicant) (answer, registered) {
	t.Helper()
	ans := s.call(t, "POST", "/v1/profiles", a.json())
	var r registered
	if ans.status == http.StatusCreated {
		if err := json.Unmarshal(ans.body, &r); err != nil {
			t.Fatal(err)
		}
	}
	return ans, r
}

// sent is every message so far, once the notices sent in the background after an answer have gone out (a notice
// still on its way would be counted with the next step).
func (s *site) sent() []notify.Message {
	s.svc.Profiles.WaitForDeliveries()
	return s.svc.Sent.Messages()
}

func countTo(msgs []notify.Message, to string) (codes, notices int) {
	for _, m := range msgs {
		if m.To != to {
			continue
		}
		if m.Code != "" {
			codes++
		} else {
			notices++
		}
	}
	return codes, notices
}

// TestAttackSMSFlood: registrations naming one phone number (432 in 15 s sent 432 SMS before): from one address
// the address limit answers 429 after 20; from many addresses (the address limit out of the way) the number
// still gets at most 10 messages an hour, also after a restart, and again after the hour.
func TestAttackSMSFlood(t *testing.T) {
	t.Parallel()
	const victim = "+48500100777"
	flood := func(s *site, n, from int) (created, throttled int) {
		for i := 0; i < n; i++ {
			ans, _ := s.register(t, applicant{login: fmt.Sprintf("flood_%d", from+i), pesel: clienttest.PESEL(5000 + from + i),
				email: "a@example.test", phone: victim, channel: "sms"})
			switch ans.status {
			case http.StatusCreated:
				created++
			case http.StatusTooManyRequests:
				if ans.header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
				throttled++
			default:
				t.Fatalf("registration %d: %d %s", i, ans.status, ans.body)
			}
		}
		return created, throttled
	}
	t.Run("one address", func(t *testing.T) {
		s := startSite(t, t.TempDir(), &settableClock{t: time.Now().Truncate(time.Second)})
		created, throttled := flood(s, 50, 0)
		sms, _ := countTo(s.sent(), victim)
		t.Logf("50 registrations from one address: %d created, %d answered 429, %d SMS to the number", created, throttled, sms)
		if created != 20 || throttled != 30 || sms != 10 {
			t.Fatalf("%d created, %d throttled, %d SMS; want 20, 30, 10", created, throttled, sms)
		}
	})
	t.Run("many addresses, restart", func(t *testing.T) {
		clock := &settableClock{t: time.Now().Truncate(time.Second)}
		s := startSite(t, t.TempDir(), clock, func(o *clienttest.Options) { o.Messages.RegistrationsPerAddress = 1000 })
		created, _ := flood(s, 50, 0)
		sms, _ := countTo(s.sent(), victim)
		t.Logf("50 registrations: %d created, %d SMS to the number", created, sms)
		if created != 50 || sms != 10 {
			t.Fatalf("%d created, %d SMS; want 50, 10", created, sms)
		}
		s = s.restart(t)
		flood(s, 5, 100)
		if sms, _ := countTo(s.sent(), victim); sms != 0 {
			t.Fatalf("after a restart the number got %d more SMS", sms)
		}
		clock.Advance(61 * time.Minute)
		flood(s, 12, 200)
		if sms, _ := countTo(s.sent(), victim); sms != 10 {
			t.Fatalf("the next hour the number got %d SMS, want 10", sms)
		}
	})
}

// TestAttackDuplicateNoticeFlood: registrations with an existing holder's PESEL (336 sent 336 notices before)
// tell the holder once a day, across restarts.
func TestAttackDuplicateNoticeFlood(t *testing.T) {
	t.Parallel()
	clock := &settableClock{t: time.Now().Truncate(time.Second)}
	s := startSite(t, t.TempDir(), clock, func(o *clienttest.Options) { o.Messages.RegistrationsPerAddress = 1000 })
	pesel := clienttest.PESEL(4711)
	if _, err := s.svc.NewHolder(bg, clienttest.Holder{Login: "anna", PESEL: pesel}); err != nil {
		t.Fatal(err)
	}
	holder := "anna@example.test"
	_, before := countTo(s.sent(), holder)
	flood := func(s *site, n, from int) {
		for i := 0; i < n; i++ {
			ans, _ := s.register(t, applicant{login: fmt.Sprintf("dup_%d", from+i), pesel: pesel,
				email: fmt.Sprintf("dup_%d@example.test", from+i), phone: "+48500100778", channel: "email"})
			if ans.status != http.StatusCreated {
				t.Fatalf("registration %d: %d %s", i, ans.status, ans.body)
			}
		}
	}
	flood(s, 50, 0)
	_, after := countTo(s.sent(), holder)
	t.Logf("50 registrations with a holder's PESEL: %d notices to the holder (before %d)", after-before, before)
	if after-before != 1 {
		t.Fatalf("%d notices, want 1", after-before)
	}
	s = s.restart(t)
	clock.Advance(23 * time.Hour)
	flood(s, 5, 100)
	if _, n := countTo(s.sent(), holder); n != 0 {
		t.Fatalf("after a restart, within the day: %d more notices", n)
	}
	clock.Advance(time.Hour + time.Second)
	flood(s, 5, 200)
	if _, n := countTo(s.sent(), holder); n != 1 {
		t.Fatalf("the next day: %d notices, want 1", n)
	}
}

// observation is everything an applicant sees of one registration, through the API and the pages, with the
// values the applicant typed or was given (login, PESEL, id, number, secret, codes, times) replaced by
// placeholders, so a fresh and a taken identity can be compared field by field.
type observation map[string]string

// TestAttackRegistrationRevealsTakenIdentity registers once with a fresh identity and once with a taken login,
// a taken PESEL and both, each on a service in the same state, and compares what the applicant sees: the
// answers (status, headers, body), the messages to their contact, logging in with the new password, the
// qualified-confirmation document (without and with the secret), resends until throttled, the contact code,
// and the same through the pages. Before: logging in answered 201 vs 401, the document 200 vs 404 (and showed
// the PESEL, names and login to anyone with the number), resends 202/429 vs always 202, and the code arrived or
// not.
func TestAttackRegistrationRevealsTakenIdentity(t *testing.T) {
	t.Parallel()
	const holderLogin = "anna_h"
	holderPESEL := clienttest.PESEL(9100)
	cases := []struct {
		name         string
		login, pesel string
	}{
		{"taken login", holderLogin, clienttest.PESEL(9101)},
		{"taken PESEL", "adam_n", holderPESEL},
		{"taken login and PESEL", holderLogin, holderPESEL},
	}
	observe := func(t *testing.T, a applicant, viaWeb bool) observation {
		s := startSite(t, t.TempDir(), &settableClock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)})
		if _, err := s.svc.NewHolder(bg, clienttest.Holder{Login: holderLogin, PESEL: holderPESEL}); err != nil {
			t.Fatal(err)
		}
		before := len(s.sent())
		if viaWeb {
			return observeWeb(t, s, a, before)
		}
		return observeAPI(t, s, a, before)
	}
	fresh := applicant{login: "adam_n", pesel: clienttest.PESEL(9101), email: "adam@example.test", phone: "+48500100779", channel: "email"}
	for _, viaWeb := range []bool{false, true} {
		want := observe(t, fresh, viaWeb)
		if testing.Verbose() {
			for _, k := range slices.Sorted(maps.Keys(want)) {
				v := want[k]
				if len(v) > 160 {
					v = v[:160] + "…"
				}
				t.Logf("fresh %s: %s", k, v)
			}
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s web=%v", tc.name, viaWeb), func(t *testing.T) {
				a := fresh
				a.login, a.pesel = tc.login, tc.pesel
				got := observe(t, a, viaWeb)
				keys := make([]string, 0, len(want))
				for k := range want {
					keys = append(keys, k)
				}
				for k := range got {
					if _, ok := want[k]; !ok {
						keys = append(keys, k)
					}
				}
				sort.Strings(keys)
				for _, k := range keys {
					if got[k] != want[k] {
						t.Errorf("%s differs:\n fresh: %q\n taken: %q", k, want[k], got[k])
					}
				}
			})
		}
	}
}

var (
	digitsRe = regexp.MustCompile(`[0-9]{6,}`)
	appNoRe  = regexp.MustCompile(`PZ-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`)
	reqIDRe  = regexp.MustCompile(`"(instance|requestId)":"[^"]*"`)
)

// normalizer replaces what differs by construction between two runs.
func normalizer(a applicant, r registered) func(string) string {
	pairs := []string{}
	for _, v := range []string{r.ApplicationSecret, r.ID, r.ApplicationNumber, a.pesel, a.login} {
		if v != "" {
			pairs = append(pairs, v, "‹value›")
		}
	}
	rep := strings.NewReplacer(pairs...)
	return func(s string) string {
		s = rep.Replace(s)
		s = appNoRe.ReplaceAllString(s, "‹appno›")
		s = reqIDRe.ReplaceAllString(s, `"$1":"‹id›"`)
		return digitsRe.ReplaceAllString(s, "‹digits›")
	}
}

// headers lists the answer's headers an observer can compare (not Date, not the request id, not the length
// that follows the placeholders).
func headers(h http.Header) string {
	var out []string
	for k, v := range h {
		switch k {
		case "Date", "X-Request-Id", "Content-Length", "Set-Cookie":
			continue
		}
		out = append(out, k+"="+strings.Join(v, ","))
	}
	slices.Sort(out)
	return strings.Join(out, ";")
}

func messagesTo(msgs []notify.Message, to string, norm func(string) string) string {
	var out []string
	for _, m := range msgs {
		if m.To == to {
			out = append(out, norm(m.Subject+"|"+m.Body+"|"+m.Code))
		}
	}
	return fmt.Sprintf("%d:%s", len(out), strings.Join(out, "||"))
}

func observeAPI(t *testing.T, s *site, a applicant, before int) observation {
	o := observation{}
	ans, r := s.register(t, a)
	norm := normalizer(a, r)
	o["register.status"] = fmt.Sprint(ans.status)
	o["register.headers"] = headers(ans.header)
	o["register.body"] = norm(string(ans.body))
	o["register.secretLength"] = fmt.Sprint(len(r.ApplicationSecret))
	o["messages.afterRegister"] = messagesTo(s.sent()[before:], a.email, norm)
	code, _ := s.svc.LastCode(a.email)

	login := s.call(t, "POST", "/v1/sessions", `{"login":"`+a.login+`","password":"Napastnik-Haslo-2026"}`)
	o["login.status"], o["login.body"] = fmt.Sprint(login.status), norm(string(login.body))

	path := "/v1/profiles/confirmations/qualified/" + r.ApplicationNumber
	for name, hdr := range map[string][]string{"none": nil, "wrong": {api.ApplicationSecretHeader, "tsa_wrong"},
		"right": {api.ApplicationSecretHeader, r.ApplicationSecret}} {
		d := s.call(t, "GET", path, "", hdr...)
		o["qualified."+name+".status"] = fmt.Sprint(d.status)
		o["qualified."+name+".headers"] = headers(d.header)
		o["qualified."+name+".body"] = norm(string(d.body))
	}
	// anyone without the secret sees nothing personal
	if d := s.call(t, "GET", path, ""); strings.Contains(string(d.body), a.pesel) || strings.Contains(string(d.body), "Napastnik") {
		t.Errorf("the confirmation document without the secret shows personal data: %s", d.body)
	}

	for i := 0; i < 12; i++ {
		s.clock.Advance(2 * time.Second)
		res := s.call(t, "POST", "/v1/profiles/"+r.ID+"/contact-confirmation/resend", "{}")
		o[fmt.Sprintf("resend.%02d", i)] = fmt.Sprintf("%d %s %s", res.status, res.header.Get("Retry-After"), norm(string(res.body)))
	}
	o["messages.afterResends"] = messagesTo(s.sent()[before:], a.email, norm)
	newest, _ := s.svc.LastCode(a.email)
	o["code.superseded"] = fmt.Sprint(newest != code)

	wrong := s.call(t, "POST", "/v1/profiles/"+r.ID+"/contact-confirmation", `{"code":"00000000"}`)
	o["confirm.wrong"] = fmt.Sprintf("%d %s", wrong.status, norm(string(wrong.body)))
	right := s.call(t, "POST", "/v1/profiles/"+r.ID+"/contact-confirmation", `{"code":"`+newest+`"}`)
	o["confirm.right"] = fmt.Sprintf("%d %s", right.status, norm(string(right.body)))
	login = s.call(t, "POST", "/v1/sessions", `{"login":"`+a.login+`","password":"Napastnik-Haslo-2026"}`)
	o["login.afterConfirm"] = fmt.Sprintf("%d %s", login.status, norm(string(login.body)))
	o["messages.all"] = messagesTo(s.sent()[before:], a.email, norm)

	// second order: register again with the same login (then the same PESEL) and fresh other data; a real
	// application holding them would be told, so the decoy is too
	s.clock.Advance(61 * time.Minute) // past the hour's message limit of the contact
	for _, again := range []struct{ name, login, pesel string }{
		{"sameLogin", a.login, clienttest.PESEL(9102)},
		{"samePESEL", "adam_again", a.pesel},
	} {
		n := len(s.sent())
		b := a
		b.login, b.pesel = again.login, again.pesel
		ans, r2 := s.register(t, b)
		norm2 := normalizer(b, r2)
		o["again."+again.name] = fmt.Sprintf("%d %s | %s", ans.status, norm2(norm(string(ans.body))),
			messagesTo(s.sent()[n:], a.email, func(x string) string { return norm2(norm(x)) }))
	}
	return o
}

// webClient is a browser: cookies kept, redirects not followed.
type webClient struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func (c *webClient) do(method, path string, form url.Values) answer {
	c.t.Helper()
	var rd io.Reader
	if form != nil {
		u, _ := url.Parse(c.base)
		for _, ck := range c.hc.Jar.Cookies(u) {
			if ck.Name == "ts_csrf" {
				form.Set("csrf", ck.Value)
			}
		}
		rd = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, b}
}

var csrfValueRe = regexp.MustCompile(`name="csrf" value="[^"]*"`)

func observeWeb(t *testing.T, s *site, a applicant, before int) observation {
	jar, _ := cookiejar.New(nil)
	c := &webClient{t: t, base: s.url, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	c.do("GET", "/register", nil)
	form := url.Values{"login": {a.login}, "password": {"Napastnik-Haslo-2026"}, "password2": {"Napastnik-Haslo-2026"},
		"firstName": {"Adam"}, "surname": {"Napastnik"}, "pesel": {a.pesel}, "email": {a.email}, "phone": {a.phone},
		"codeChannel": {a.channel}}
	o := observation{}
	reg := c.do("POST", "/register", form)
	var r registered
	u, _ := url.Parse(s.url)
	for _, ck := range jar.Cookies(u) {
		if strings.Contains(ck.Name, "reg") {
			id, num, _ := strings.Cut(ck.Value, ".")
			r.ID, r.ApplicationNumber = id, num
		}
	}
	norm := normalizer(a, r)
	page := func(ans answer) string {
		return fmt.Sprintf("%d %s %s", ans.status, ans.header.Get("Location"), csrfValueRe.ReplaceAllString(norm(string(ans.body)), ""))
	}
	o["register"] = page(reg)
	o["confirm.page"] = page(c.do("GET", "/register/confirm", nil))
	o["messages.afterRegister"] = messagesTo(s.sent()[before:], a.email, norm)
	for i := 0; i < 12; i++ {
		s.clock.Advance(2 * time.Second)
		o[fmt.Sprintf("resend.%02d", i)] = page(c.do("POST", "/register/resend", url.Values{}))
	}
	code, _ := s.svc.LastCode(a.email)
	o["confirm.code"] = page(c.do("POST", "/register/confirm", url.Values{"code": {code}}))
	o["login"] = page(c.do("POST", "/login", url.Values{"login": {a.login}, "password": {"Napastnik-Haslo-2026"}}))
	o["messages.all"] = messagesTo(s.sent()[before:], a.email, norm)
	return o
}
