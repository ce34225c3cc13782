package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/web"
)

func TestPasswordRecoveryPages(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	old := e.newClient()
	old.login("anna", holderPassword)
	for _, lang := range []string{"pl", "en"} {
		r := e.newClient().get("/login", "Accept-Language", lang)
		if !strings.Contains(r.body, `href="/password-reset"`) {
			t.Fatalf("%s: the login page does not lead to password recovery", lang)
		}
	}
	c := e.newClient()
	r := c.post("/password-reset", url.Values{"account": {""}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Podaj login lub numer PESEL") {
		t.Fatalf("empty account: %d", r.StatusCode)
	}
	for _, account := range []string{"anna", "44051401359"} {
		r = c.post("/password-reset", url.Values{"account": {account}})
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `action="/password-reset/confirm"`) {
			t.Fatalf("request by %s: %d", account, r.StatusCode)
		}
		checkPage(t, r, "pl")
	}
	code := e.code("anna@example.test")
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"mismatch", url.Values{"account": {"anna"}, "code": {code}, "password": {"Nowe-Haslo-2027"}, "password2": {"Nowe-Haslo-2028"}}, 422, "Hasła nie są takie same"},
		{"weak", url.Values{"account": {"anna"}, "code": {code}, "password": {"haslo"}, "password2": {"haslo"}}, 422, "co najmniej 8"},
		{"wrong code", url.Values{"account": {"anna"}, "code": {wrong(code)}, "password": {"Nowe-Haslo-2027"}, "password2": {"Nowe-Haslo-2027"}}, 422, "Nieprawidłowy lub nieważny kod"},
		{"right", url.Values{"account": {"anna"}, "code": {code}, "password": {"Nowe-Haslo-2027"}, "password2": {"Nowe-Haslo-2027"}}, 303, ""},
	}
	for _, tc := range tests {
		r := c.post("/password-reset/confirm", tc.form)
		if r.StatusCode != tc.status || !strings.Contains(r.body, tc.want) {
			t.Fatalf("%s: %d, want %d with %q: %s", tc.name, r.StatusCode, tc.status, tc.want, text(r.body))
		}
		if strings.Contains(r.body, "Nowe-Haslo") {
			t.Fatalf("%s: the page repeats the password", tc.name)
		}
		if tc.status == 303 && r.Header.Get("Location") != "/login?m=passwordReset" {
			t.Fatalf("after the reset: %s", r.Header.Get("Location"))
		}
	}
	if r := old.get("/profile"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a session from before the reset still works: %d", r.StatusCode)
	}
	c.login("anna", "Nowe-Haslo-2027")
}

func wrong(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// TestAttackPasswordRecoveryEnumeration: the recovery pages read the same for an unknown login as for a holder.
func TestAttackPasswordRecoveryEnumeration(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	page := func(path string, form url.Values) string {
		r := e.newClient().post(path, form)
		return r.Status + " " + strings.ReplaceAll(text(r.body), form.Get("account"), "ACCOUNT")
	}
	for _, path := range []string{"/password-reset", "/password-reset/confirm"} {
		form := func(account string) url.Values {
			return url.Values{"account": {account}, "code": {"000000"}, "password": {"Nowe-Haslo-2027"}, "password2": {"Nowe-Haslo-2027"}}
		}
		if a, g := page(path, form("anna")), page(path, form("ghost_x")); a != g {
			t.Fatalf("%s differs:\n anna  %s\n ghost %s", path, a, g)
		}
	}
}

// TestAttackLoginLockoutOfHolderPages: an attacker's wrong passwords on the login page delay the attacker's
// address, not the holder's (the address comes from X-Forwarded-For only through a trusted proxy).
func TestAttackLoginLockoutOfHolderPages(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	h, err := web.New(web.Config{Profiles: e.profiles, Signing: e.signing, Clock: e.clock, TrustedProxies: []string{"127.0.0.1/32"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	newClient := func() *client {
		c := e.newClient()
		c.base = srv.URL
		return c
	}
	attacker := newClient()
	loginFrom := func(c *client, addr, password string) response {
		form := url.Values{"login": {"anna"}, "password": {password}, "csrf": {c.csrf()}}
		req, _ := http.NewRequest("POST", c.base+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", addr)
		return c.do(req)
	}
	for i := 0; i < 5; i++ {
		if r := loginFrom(attacker, "203.0.113.5", "Wrong-Password-1"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, r.StatusCode)
		}
	}
	r := loginFrom(attacker, "203.0.113.5", "Wrong-Password-1")
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "1" || !strings.Contains(r.body, "Spróbuj ponownie za 1 s") {
		t.Fatalf("the attacker's sixth guess: %d %q %s", r.StatusCode, r.Header.Get("Retry-After"), text(r.body))
	}
	if r := loginFrom(newClient(), "198.51.100.4", holderPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the holder from another address: %d %s", r.StatusCode, text(r.body))
	}
}

// TestBusyPage: with every password-hashing slot taken, a login page answers 429 with a translated "try again"
// page and Retry-After.
func TestBusyPage(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "t.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	release, held := make(chan struct{}), make(chan struct{}, 1)
	var hold atomic.Bool
	sent := &notify.Recorder{}
	ps, err := profile.New(db, sent, profile.Options{Secret: []byte("0123456789abcdef0123456789abcdef"),
		Argon2: profile.Argon2Params{Memory: 64, Time: 1, Threads: 1}, UnsafeFastHashing: true,
		HashSlots: 1, HashWait: 10 * time.Millisecond, HashObserver: func(int) {
			if hold.Load() {
				held <- struct{}{}
				<-release
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := web.New(web.Config{Profiles: ps})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{t: t, srv: srv}
	hold.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ps.Login(bg, "someone", "Wrong-Password-1") // holds the only slot
	}()
	<-held
	r := e.newClient().post("/login", url.Values{"login": {"anna"}, "password": {"Wrong-Password-1"}})
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(r.body, "Serwis jest teraz bardzo obciążony") {
		t.Fatalf("busy page: %d %q %s", r.StatusCode, r.Header.Get("Retry-After"), text(r.body))
	}
	close(release)
	<-done
}
