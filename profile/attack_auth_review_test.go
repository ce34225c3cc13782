package profile_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/trustsign/trustsign/profile"
)

func TestAttackLoginNewAddressKeptOut(t *testing.T) {
	e := newEnv(t)
	e.activeProfile(t, "nowy-posiadacz", pesel)
	n := 0
	attack := func() {
		for {
			n++
			_, err := e.svc.LoginFrom(ctx, fmt.Sprintf("2001:db8::%x", n), "nowy-posiadacz", "zle-haslo")
			var te *profile.ThrottledError
			if errors.As(err, &te) {
				return // the slot is taken; the attacker polls again the moment it opens
			}
		}
	}
	attack()
	for minute := 0; minute < 60; minute++ {
		// the holder tries from a new address whenever he likes; the attacker is polling and got there first
		_, err := e.svc.LoginFrom(ctx, "198.51.100.7", "nowy-posiadacz", password)
		if err == nil {
			t.Logf("holder got in after %d minutes", minute)
			return
		}
		e.clock.Advance(time.Minute)
		attack()
	}
	t.Fatalf("a holder logging in from a new address was kept out for an hour by %d attacker attempts "+
		"(about one wrong password a minute)", n)
}

func TestAttackPasswordResetTellsTakenIdentity(t *testing.T) {
	e := newEnv(t)
	e.activeProfile(t, "zajety", pesel)
	takenPESEL := pesel
	freshPESEL := peselBorn(time.Date(1987, 11, 4, 0, 0, 0, 0, time.UTC), "2468")
	otherPESEL := peselBorn(time.Date(1979, 1, 23, 0, 0, 0, 0, time.UTC), "1357")
	cases := []struct {
		name, login, pesel, ask string
	}{
		{"fresh login", "wolny-login", freshPESEL, "wolny-login"},
		{"taken login", "zajety", otherPESEL, "zajety"},
		{"fresh PESEL", "wolny-2", peselBorn(time.Date(1992, 6, 30, 0, 0, 0, 0, time.UTC), "9753"), ""},
		{"taken PESEL", "wolny-3", takenPESEL, ""},
	}
	got := map[string]bool{}
	for i, c := range cases {
		a := app(c.login, c.pesel)
		a.Email = fmt.Sprintf("napastnik%d@example.test", i)
		r, err := e.svc.Register(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ConfirmContact(ctx, r.ID, e.lastCode(t, a.Email)); err != nil {
			t.Fatal(err)
		}
		before := len(e.sent.Messages())
		ask := c.ask
		if ask == "" {
			ask = c.pesel
		}
		e.clock.Advance(2 * time.Second)
		if err := e.svc.RequestPasswordReset(ctx, ask); err != nil {
			t.Fatal(err)
		}
		e.svc.WaitForDeliveries()
		for _, m := range e.sent.Messages()[before:] {
			if m.To == a.Email {
				got[c.name] = true
			}
		}
		t.Logf("%s: reset code reached the applicant: %v", c.name, got[c.name])
	}
	if got["fresh login"] != got["taken login"] || got["fresh PESEL"] != got["taken PESEL"] {
		t.Fatalf("the applicant's own mailbox tells a taken identity from a fresh one through password reset: %v", got)
	}
}
