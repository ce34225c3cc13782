package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// TestAttackPasswordSprayingOnLoginPage: the API bounds failed logins per client address over all logins (100
// per 15 minutes, password spraying: one common password against many logins); the login page has no such bound,
// so the same address sprays through /login without ever being refused.
func TestAttackPasswordSprayingOnLoginPage(t *testing.T) {
	e := newEnv(t)
	c := e.newClient()
	for i := 0; i < 150; i++ {
		r := c.post("/login", url.Values{"login": {fmt.Sprintf("ofiara%03d", i)}, "password": {"Lato-2026!"}})
		switch r.StatusCode {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			t.Logf("refused after %d failed logins from one address", i)
			return
		default:
			t.Fatalf("attempt %d: %d", i, r.StatusCode)
		}
	}
	t.Fatal("150 failed logins for 150 logins from one address, none refused (the API refuses after 100)")
}

// TestAttackDisabledClientRequestStillSignable: disabling a leaked integrator key answers 401 to its API calls,
// but the signing requests the key's thief filed before are still shown to holders and signed on the pages (the
// holder signs a document of a revoked integrator and is sent to its success URL).
// TestAttackPasswordResetPagesUnbounded: the API allows one address 10 password-reset requests per 15 minutes
// (message floods) and bounds code guesses per address likewise; the pages call the same service with no bound
// per address, so a script uses /password-reset instead.
func TestAttackPasswordResetPagesUnbounded(t *testing.T) {
	e := newEnv(t)
	c := e.newClient()
	for i := 0; i < 40; i++ {
		r := c.post("/password-reset", url.Values{"account": {fmt.Sprintf("konto%03d", i)}})
		if r.StatusCode == http.StatusTooManyRequests {
			t.Logf("refused after %d requests from one address", i)
			return
		}
		if r.StatusCode >= 300 && r.StatusCode != http.StatusSeeOther {
			t.Fatalf("request %d: %d", i, r.StatusCode)
		}
	}
	t.Fatal("40 password-reset requests from one address, none refused (the API refuses after 10)")
}
