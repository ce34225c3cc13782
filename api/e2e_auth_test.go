package api_test

// Abuse of logging in, password hashing and password recovery, over real HTTP.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/profile"
)

// post sends a JSON body from a client address (X-Forwarded-For; the test server trusts 127.0.0.1 as a proxy
// when it was started with TrustedProxies) and returns the status, headers and body.
func (e *e2e) post(t *testing.T, path, from string, body any) (int, http.Header, []byte) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Error(err)
		return 0, nil, nil
	}
	req, err := http.NewRequestWithContext(bg, "POST", e.URL+path, bytes.NewReader(data))
	if err != nil {
		t.Error(err)
		return 0, nil, nil
	}
	req.Header.Set("Content-Type", "application/json")
	if from != "" {
		req.Header.Set("X-Forwarded-For", from)
	}
	resp, err := e.HTTP.Client().Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

func loginBody(login, password string) map[string]string {
	return map[string]string{"login": login, "password": password}
}

// auditCount counts the audit records of a kind.
func (e *e2e) auditCount(t *testing.T, kind string) int {
	t.Helper()
	var exported bytes.Buffer
	if _, err := audit.Export(bg, e.DB, &exported); err != nil {
		t.Fatal(err)
	}
	return strings.Count(exported.String(), `"kind":"`+kind+`"`)
}

func trustLoopback(o *clienttest.Options) { o.TrustedProxies = []string{"127.0.0.1"} }

// TestAttackConcurrentWrongPasswords: 90 concurrent wrong passwords for one login from one address. The attempt is
// recorded and checked in one transaction before the password hash, so at most the five free failures reach the
// password check (it used to be 56 of 90); the rest get 429 with Retry-After, and every checked failure is
// audited.
func TestAttackConcurrentWrongPasswords(t *testing.T) {
	t.Parallel()
	e := newE2E(t, trustLoopback)
	e.holder(t, "anna")
	var wg sync.WaitGroup
	var unauthorized, throttled, other atomic.Int32
	for i := 0; i < 90; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, h, body := e.post(t, "/v1/sessions", "203.0.113.9", loginBody("anna", fmt.Sprintf("Wrong-Password-%d", i)))
			switch {
			case st == 401:
				unauthorized.Add(1)
			case st == 429 && h.Get("Retry-After") != "" && strings.HasPrefix(h.Get("Content-Type"), "application/problem+json"):
				throttled.Add(1)
			default:
				other.Add(1)
				t.Errorf("status %d: %s", st, body)
			}
		}()
	}
	wg.Wait()
	t.Logf("90 concurrent wrong passwords: %d × 401, %d × 429", unauthorized.Load(), throttled.Load())
	if n := unauthorized.Load(); n > 5 {
		t.Errorf("%d wrong passwords reached the password check; the limit is 5", n)
	}
	if audited := e.auditCount(t, "session.login.fail"); audited != int(unauthorized.Load()) {
		t.Errorf("%d failures audited, %d checked", audited, unauthorized.Load())
	}
}

// TestAttackLoginLockoutOfHolder: five wrong passwords from an attacker's address used to lock the login for
// everyone. Now the attacker's address is delayed and the holder, from another address, logs in at once, also
// during a distributed attack and from an address it never used (only wrong passwords wait there).
func TestAttackLoginLockoutOfHolder(t *testing.T) {
	t.Parallel()
	e := newE2E(t, trustLoopback)
	e.holder(t, "anna")
	for i := 1; i <= 5; i++ {
		st, _, body := e.post(t, "/v1/sessions", "203.0.113.66", loginBody("anna", fmt.Sprintf("Wrong-Password-%d", i)))
		if st != 401 {
			t.Fatalf("attempt %d: %d %s", i, st, body)
		}
	}
	st, h, body := e.post(t, "/v1/sessions", "203.0.113.66", loginBody("anna", "Wrong-Password-6"))
	wantRawProblem(t, "the attacker's sixth guess", st, h, body, 429)
	if st, _, body := e.post(t, "/v1/sessions", "198.51.100.23", loginBody("anna", clienttest.Password)); st != 201 {
		t.Fatalf("the holder from another address after an attacker's 5 failures: %d %s", st, body)
	}
	// a distributed attack delays new addresses by at most a minute; the holder's address is known
	for i := 0; i < 30; i++ {
		e.post(t, "/v1/sessions", fmt.Sprintf("203.0.113.%d", 100+i), loginBody("anna", "Wrong-Password-7"))
	}
	if st, _, body := e.post(t, "/v1/sessions", "198.51.100.23", loginBody("anna", clienttest.Password)); st != 201 {
		t.Fatalf("the holder from a known address during a distributed attack: %d %s", st, body)
	}
	// from a new address a wrong password waits (at most a minute); the right one is never kept out
	st, h, body = e.post(t, "/v1/sessions", "192.0.2.77", loginBody("anna", "Wrong-Password-8"))
	wantRawProblem(t, "a wrong password from a new address during a distributed attack", st, h, body, 429)
	var wait int
	fmt.Sscan(h.Get("Retry-After"), &wait)
	if wait < 1 || wait > 60 {
		t.Fatalf("Retry-After %q", h.Get("Retry-After"))
	}
	if st, _, body := e.post(t, "/v1/sessions", "192.0.2.78", loginBody("anna", clienttest.Password)); st != 201 {
		t.Fatalf("the holder from a new address during a distributed attack: %d %s", st, body)
	}
}

// TestAttackHashingFlood: concurrent registrations and logins (each an argon2id hash of 19 MiB in production) run at
// most HashSlots hashes at once; the excess waits briefly and then gets 429 problem+json with Retry-After.
func TestAttackHashingFlood(t *testing.T) {
	t.Parallel()
	const slots = 2
	release := make(chan struct{})
	var running, peak atomic.Int32
	hold := atomic.Bool{}
	e := newE2E(t, trustLoopback, func(o *clienttest.Options) {
		o.Profile = func(po *profile.Options) {
			po.HashSlots, po.HashWait = slots, 50*time.Millisecond
			po.HashObserver = func(n int) {
				if !hold.Load() {
					return
				}
				if int32(n) > peak.Load() {
					peak.Store(int32(n))
				}
				running.Add(1)
				<-release
			}
		}
	})
	e.holder(t, "anna")
	hold.Store(true)
	var wg sync.WaitGroup
	statuses := make(chan int, 40)
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			st, h, body := e.post(t, "/v1/profiles", fmt.Sprintf("198.51.100.%d", i), map[string]string{
				"login": fmt.Sprintf("flood%d", i), "password": "Zaufany-Haslo-2026", "firstName": "Jan", "surname": "Testowy",
				"pesel": clienttest.PESEL(5000 + i), "email": fmt.Sprintf("flood%d@example.test", i), "phone": "+48500100999",
				"codeChannel": "email"})
			if st == 429 && (h.Get("Retry-After") == "" || !strings.Contains(string(body), "/busy")) {
				t.Errorf("registration 429 without Retry-After or not busy: %s", body)
			}
			statuses <- st
		}()
		go func() {
			defer wg.Done()
			st, h, body := e.post(t, "/v1/sessions", fmt.Sprintf("192.0.2.%d", i), loginBody("anna", clienttest.Password))
			// waiting attempts count against the login until they are answered: some are delayed, not busy
			if st == 429 && h.Get("Retry-After") == "" {
				t.Errorf("login 429 without Retry-After: %s", body)
			}
			statuses <- st
		}()
	}
	// all but the slot holders are answered while the slots are held
	counts := map[int]int{}
	for n := 0; n < 40-slots; n++ {
		select {
		case st := <-statuses:
			counts[st]++
		case <-time.After(20 * time.Second):
			t.Fatalf("only %d answers while the slots were held: %v", n, counts)
		}
	}
	close(release)
	wg.Wait()
	close(statuses)
	for st := range statuses {
		counts[st]++
	}
	t.Logf("40 concurrent hashing requests with %d slots: %v, peak %d running", slots, counts, peak.Load())
	if peak.Load() > slots || running.Load() != slots {
		t.Errorf("peak %d hashes at once, %d started; want at most %d", peak.Load(), running.Load(), slots)
	}
	if counts[429] != 40-slots || counts[201] != slots {
		t.Errorf("statuses %v; want %d × 429 and %d × 201", counts, 40-slots, slots)
	}
}

// TestE2EPasswordRecovery: a code to the confirmed channel, then the code and a new password; the old sessions end
// and the holder is told.
func TestE2EPasswordRecovery(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, pesel, old := e.holder(t, "anna")
	for _, id := range []string{"anna", pesel} {
		st, _, body := e.raw(t, "POST", "/v1/password-resets", "application/json", strings.NewReader(`{"login":"`+id+`"}`), "")
		if st != 202 {
			t.Fatalf("request: %d %s", st, body)
		}
	}
	code := e.code(t, "anna")
	st, h, body := e.raw(t, "POST", "/v1/password-resets/confirm", "application/json",
		strings.NewReader(`{"login":"anna","code":"`+code+`","password":"weak"}`), "")
	wantRawProblem(t, "a password breaking the rules", st, h, body, 422)
	if !strings.Contains(string(body), "password") {
		t.Errorf("the problem does not name the password: %s", body)
	}
	st, _, body = e.raw(t, "POST", "/v1/password-resets/confirm", "application/json",
		strings.NewReader(`{"login":"anna","code":"`+code+`","password":"Nowe-Haslo-2027"}`), "")
	if st != 204 {
		t.Fatalf("confirm: %d %s", st, body)
	}
	if _, err := old.Me(bg); !clienttest.IsProblem(err, 401) {
		t.Fatalf("an old session after the reset: %v", err)
	}
	if _, err := e.anon.Login(bg, "anna", clienttest.Password); !clienttest.IsProblem(err, 401) {
		t.Fatalf("the old password after the reset: %v", err)
	}
	e.login(t, "anna", "Nowe-Haslo-2027")
	if m, _ := e.Sent.Last("anna@example.test"); !strings.Contains(m.Subject, "hasło zostało zmienione") {
		t.Fatalf("no notice of the change: %+v", m)
	}
	if e.auditCount(t, "profile.password.reset") != 1 {
		t.Fatal("the reset is not audited")
	}
}

// TestAttackPasswordResetEnumeration: for an unknown login the answers are byte for byte those for a real holder
// (apart from the request id), and no message goes anywhere.
func TestAttackPasswordResetEnumeration(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.holder(t, "anna")
	answer := func(path, body string) string {
		st, h, out := e.raw(t, "POST", path, "application/json", strings.NewReader(body), "")
		var p map[string]any
		if len(out) > 0 {
			if err := json.Unmarshal(out, &p); err != nil {
				t.Fatalf("%s: %s", path, out)
			}
			delete(p, "requestId")
		}
		return fmt.Sprintf("%d %s %s %v", st, h.Get("Content-Type"), h.Get("Retry-After"), p)
	}
	sent := len(e.Sent.Messages())
	ghostReq := answer("/v1/password-resets", `{"login":"ghost"}`)
	e.Profiles.WaitForDeliveries()
	if n := len(e.Sent.Messages()); n != sent {
		t.Fatal("a message was sent for an unknown login")
	}
	annaReq := answer("/v1/password-resets", `{"login":"anna"}`)
	if ghostReq != annaReq {
		t.Fatalf("request answers differ:\n ghost %s\n anna  %s", ghostReq, annaReq)
	}
	for i := 0; i < 5; i++ {
		body := `{"login":"%s","code":"000000","password":"Nowe-Haslo-2027"}`
		g, a := answer("/v1/password-resets/confirm", fmt.Sprintf(body, "ghost")), answer("/v1/password-resets/confirm", fmt.Sprintf(body, "anna"))
		if g != a {
			t.Fatalf("confirm answers differ at attempt %d:\n ghost %s\n anna  %s", i, g, a)
		}
	}
}

// TestAttackPasswordResetBruteForce: 200 guesses of a reset code over HTTP from many addresses never succeed, and at
// most 20 reach the code check (the profile's daily limit of wrong entries).
func TestAttackPasswordResetBruteForce(t *testing.T) {
	t.Parallel()
	e := newE2E(t, trustLoopback)
	e.holder(t, "anna")
	accepted := 0
	for i := 0; i < 200; i++ {
		from := fmt.Sprintf("203.0.113.%d", i/10)
		if i%5 == 0 {
			e.clock.Advance(2 * time.Minute)
			e.post(t, "/v1/password-resets", from, map[string]string{"login": "anna"})
		}
		real, _ := e.LastCode("anna@example.test")
		guess := fmt.Sprintf("%06d", i)
		if guess == real {
			continue
		}
		st, _, body := e.post(t, "/v1/password-resets/confirm", from, map[string]string{"login": "anna", "code": guess, "password": "Nowe-Haslo-2027"})
		switch st {
		case 204:
			accepted++
		case 422, 429:
		default:
			t.Fatalf("guess %d: %d %s", i, st, body)
		}
	}
	checked := e.auditCount(t, "code.fail") + e.auditCount(t, "code.kill")
	t.Logf("200 guesses: %d accepted, %d checked", accepted, checked)
	if accepted != 0 || checked > 20 {
		t.Fatalf("%d guesses accepted, %d checked", accepted, checked)
	}
}
