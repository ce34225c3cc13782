package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/profile"
)

// TestAttackLookupEnumeration: an integrator walking PESELs through the lookup is stopped at 60 a minute (429
// problem+json with Retry-After); a second key from the same address shares the address's 120 a minute, and even
// calls with a wrong key count there. The limits are per minute: the next minute the key looks up again.
func TestAttackLookupEnumeration(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	keyB, err := e.NewIntegrator(bg, "e-skarbowka", profile.ScopeLookup)
	if err != nil {
		t.Fatal(err)
	}
	b := e.Client(client.APIKey(keyB))
	seq := 0
	next := func() string {
		seq++
		p := clienttest.PESEL(90000 + seq*13)
		e.mu.Lock()
		e.pesels = append(e.pesels, p)
		e.mu.Unlock()
		return p
	}
	// lookups until the first refusal: how many went through, and the refusal
	walk := func(c *client.Client, max int) (int, error) {
		for i := 0; i < max; i++ {
			_, err := c.Lookup(bg, next())
			if client.StatusOf(err) == 429 {
				return i, err
			}
			if client.StatusOf(err) != 404 {
				t.Fatalf("lookup %d: %v", i, err)
			}
		}
		return max, nil
	}
	n, err := walk(e.rx, 200)
	if n != 60 {
		t.Fatalf("one key looked up %d PESELs in a minute, want 60", n)
	}
	if p := wantProblem(t, "the 61st lookup of a key", err, 429); p.RetryAfter <= 0 || p.RetryAfter > 61 {
		t.Fatalf("Retry-After %d", p.RetryAfter)
	}
	// the address has seen 61 lookups: the second key gets the 59 left of its 120
	n, err = walk(b, 200)
	if n != 59 {
		t.Fatalf("a second key from the same address looked up %d PESELs, want 59 (the address's 120 less 61)", n)
	}
	wantProblem(t, "beyond the address's limit", err, 429)
	status, h, body := e.raw(t, "POST", "/v1/profiles/lookup", "application/json", strings.NewReader(`{"pesel":"`+next()+`"}`), "Bearer ts_wrong")
	wantRawProblem(t, "a wrong key from the limited address", status, h, body, 429)
	if h.Get("Retry-After") == "" {
		t.Fatal("429 without a Retry-After header")
	}

	e.clock.Advance(61 * time.Second)
	if _, err := e.rx.Lookup(bg, next()); client.StatusOf(err) != 404 {
		t.Fatalf("the next minute: %v", err)
	}
}
