package web_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/web"
)

var bg = context.Background()

const (
	demoClient     = "demo-web"
	officerLogin   = "urzednik1"
	officerPass    = "Urzednik-Test-2026!"
	holderPassword = "Dobre-Haslo-2026"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a service with pages on an httptest server: profiles and signing over bbolt, messages kept by a
// Recorder, a settable clock, an officer, and an outside "integrator" on another origin.
type env struct {
	t          *testing.T
	profiles   *profile.Service
	signing    *signing.Service
	sent       *notify.Recorder
	clock      *testClock
	policy     *verify.Policy
	srv        *httptest.Server
	integrator *httptest.Server
	officerID  string
	client     profile.Client
}

// newEnv starts the pages; wrapKey, when given, stands between the seal and its key (a key that fails...).
func newEnv(t *testing.T, wrapKey ...func(crypto.Signer) crypto.Signer) *env {
	t.Helper()
	return newEnvWith(t, nil, wrapKey...)
}

// newEnvWith is newEnv with the signing flow's options adjusted by so (a level, a TSA) when so is not nil.
func newEnvWith(t *testing.T, so func(*signing.Options), wrapKey ...func(crypto.Signer) crypto.Signer) *env {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "t.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, sent: &notify.Recorder{}, clock: &testClock{t: time.Now().UTC().Truncate(time.Second)}}
	e.profiles, err = profile.New(db, e.sent, profile.Options{Clock: e.clock, Secret: []byte("0123456789abcdef0123456789abcdef"),
		Argon2: profile.Argon2Params{Memory: 64, Time: 1, Threads: 1}, UnsafeFastHashing: true,
		Sessions: profile.SessionOptions{IdleTimeout: 24 * time.Hour, AbsoluteTimeout: 48 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	pki := testpki.New()
	var key crypto.Signer = pki.EC256.Key
	for _, w := range wrapKey {
		key = w(key)
	}
	seal, err := signer.NewSeal(key, pki.EC256.Chain)
	if err != nil {
		t.Fatal(err)
	}
	opts := signing.Options{Clock: e.clock, RequestTTL: 10 * time.Minute, DemoClientID: demoClient}
	if so != nil {
		so(&opts)
	}
	e.signing = signing.New(db, e.profiles, seal, opts)
	e.policy = &verify.Policy{Roots: []*x509.Certificate{pki.Root}, Now: e.clock.Now}
	h, err := web.New(web.Config{Profiles: e.profiles, Signing: e.signing, VerifyPolicy: e.policy, Clock: e.clock,
		Secure: false, DemoClientID: demoClient, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	e.integrator = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!DOCTYPE html><html lang="en"><title>Integrator</title><h1 id="outcome">`+
			map[bool]string{true: "integrator: signed", false: "integrator: not signed"}[r.URL.Path == "/ok"]+`</h1>`)
	}))
	t.Cleanup(e.integrator.Close)
	o, err := e.profiles.CreateOfficer(bg, officerLogin, officerPass, "Jan Urzędnik")
	if err != nil {
		t.Fatal(err)
	}
	e.officerID = o.ID
	e.client, _, err = e.profiles.CreateClient(bg, "e-Urząd Testowy", []profile.Scope{profile.ScopeSign})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// holder makes an active profile (registered, contact confirmed, confirmed by the officer) and returns its id.
func (e *env) holder(login, pesel string) string {
	e.t.Helper()
	r, err := e.profiles.Register(bg, profile.Application{Login: login, Password: holderPassword, FirstName: "Anna",
		Surname: "Testowa", PESEL: pesel, Email: login + "@example.test", Phone: "+48500100200", CodeChannel: profile.ChannelEmail})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.profiles.ConfirmContact(bg, r.ID, e.code(login+"@example.test")); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.profiles.ConfirmInPerson(bg, e.officerID, r.ApplicationNumber, profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"}); err != nil {
		e.t.Fatal(err)
	}
	return r.ID
}

// code is the newest code sent to a recipient.
func (e *env) code(to string) string {
	e.t.Helper()
	e.profiles.WaitForDeliveries()
	m, ok := e.sent.Last(to)
	if !ok || m.Code == "" {
		e.t.Fatalf("no code for %s", to)
	}
	return m.Code
}

// submit files a signing request of the test integrator (success and failure on the integrator's origin).
func (e *env) submit(doc, name string) signing.Request {
	e.t.Helper()
	req, err := e.signing.Submit(bg, e.client.ID, signing.Submission{Document: []byte(doc), FileName: name,
		SuccessURL: e.integrator.URL + "/ok", FailureURL: e.integrator.URL + "/failed", AdditionalInfo: "Recepta nr 1/2026"})
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

// browserless client: a cookie jar, no redirects followed, forms posted with the CSRF token.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func (e *env) newClient() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.srv.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res, string(b)}
}

func (c *client) get(path string, header ...string) response {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

// csrf returns the browser's CSRF token (visiting the start page first if there is none).
func (c *client) csrf() string {
	c.t.Helper()
	u, _ := url.Parse(c.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == "ts_csrf" {
			return ck.Value
		}
	}
	c.get("/")
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == "ts_csrf" {
			return ck.Value
		}
	}
	c.t.Fatal("no CSRF cookie")
	return ""
}

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf())
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) login(login, password string) {
	c.t.Helper()
	res := c.post("/login", url.Values{"login": {login}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login %s: %d %s", login, res.StatusCode, res.body)
	}
}

var tagRe = regexp.MustCompile(`<[^>]+>`)

// text is a page's visible text, roughly (tags removed, spaces squeezed).
func text(html string) string {
	return strings.Join(strings.Fields(tagRe.ReplaceAllString(html, " ")), " ")
}

// screenshotDir is where browser tests keep their screenshots: $TRUSTSIGN_SCREENSHOTS, or a new temporary
// directory that is left behind as the run's artifacts.
func screenshotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("TRUSTSIGN_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "trustsign-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}
