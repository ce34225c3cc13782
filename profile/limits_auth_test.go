package profile_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/trustsign/trustsign/profile"
)

// TestAttackLoginSprayingPerAddress: one address trying one common password against many logins is refused
// after LoginFailuresPerAddress failures over all logins (the count lives in the store, so the API and the pages
// share it); other addresses are not, and a successful login does not count.
func TestAttackLoginSprayingPerAddress(t *testing.T) {
	e := newEnv(t)
	e.activeProfile(t, "jan_ok", pesel)
	const sprayer = "203.0.113.50"
	if _, err := e.svc.LoginFrom(ctx, sprayer, "jan_ok", password); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		_, err := e.svc.LoginFrom(ctx, sprayer, fmt.Sprintf("ofiara%03d", i), "Lato-2026!")
		wantErr(t, err, profile.ErrInvalidCredentials)
	}
	_, err := e.svc.LoginFrom(ctx, sprayer, "ofiara100", "Lato-2026!")
	var te *profile.ThrottledError
	if !errors.As(err, &te) || te.What != "address" || te.RetryAfter > 15*time.Minute {
		t.Fatalf("the 101st failure from one address: %v", err)
	}
	if _, err := e.svc.LoginFrom(ctx, "203.0.113.51", "ofiara100", "Lato-2026!"); !errors.Is(err, profile.ErrInvalidCredentials) {
		t.Fatalf("another address: %v", err)
	}
	e.clock.Advance(15 * time.Minute)
	if _, err := e.svc.LoginFrom(ctx, sprayer, "jan_ok", password); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// TestRecoveryLimitsPerAddress: password-reset requests and code entries are counted per client address, each
// against its own limit (defaults 10 and 20 per 15 minutes).
func TestRecoveryLimitsPerAddress(t *testing.T) {
	for _, c := range []struct {
		action profile.Action
		limit  int
	}{
		{profile.ActionResetRequest, 10},
		{profile.ActionResetConfirm, 20},
	} {
		t.Run(string(c.action), func(t *testing.T) {
			e := newEnv(t)
			for i := 0; i < c.limit; i++ {
				if err := e.svc.AllowFrom(ctx, c.action, "192.0.2.5"); err != nil {
					t.Fatalf("%d: %v", i, err)
				}
			}
			wantErr(t, e.svc.AllowFrom(ctx, c.action, "192.0.2.5"), profile.ErrThrottled)
			if err := e.svc.AllowFrom(ctx, c.action, "192.0.2.6"); err != nil {
				t.Fatalf("another address: %v", err)
			}
			e.clock.Advance(15 * time.Minute)
			if err := e.svc.AllowFrom(ctx, c.action, "192.0.2.5"); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		})
	}
}
