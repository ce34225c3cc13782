package profile_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/profile"
)

const newPassword = "Nowe-Haslo-2027"

func TestPasswordRecovery(t *testing.T) {
	for _, by := range []string{"login", "pesel"} {
		t.Run(by, func(t *testing.T) {
			e := newEnv(t)
			p := e.activeProfile(t, "jan_ok", pesel)
			old, err := e.svc.Login(ctx, "jan_ok", password)
			if err != nil {
				t.Fatal(err)
			}
			id := map[string]string{"login": "JAN_OK", "pesel": pesel}[by]
			if err := e.svc.RequestPasswordReset(ctx, id); err != nil {
				t.Fatal(err)
			}
			code := e.lastCode(t, "jan_ok@example.test")
			if err := e.svc.ResetPassword(ctx, id, code, newPassword); err != nil {
				t.Fatal(err)
			}
			wantErr(t, func() error { _, err := e.svc.Authenticate(ctx, old.Token); return err }(), profile.ErrUnauthenticated)
			wantErr(t, func() error { _, err := e.svc.Login(ctx, "jan_ok", password); return err }(), profile.ErrInvalidCredentials)
			if s, err := e.svc.Login(ctx, "jan_ok", newPassword); err != nil || s.SubjectID != p.ID {
				t.Fatalf("login with the new password: %+v %v", s, err)
			}
			if m, _ := e.sent.Last("jan_ok@example.test"); m.Code != "" || m.Subject != "Profil zaufany – hasło zostało zmienione" {
				t.Fatalf("no notice of the change: %+v", m)
			}
			// the code was used up
			wantErr(t, e.svc.ResetPassword(ctx, id, code, "Trzecie-Haslo-2028"), profile.ErrInvalidCode)
			if ks := kinds(e.auditRecords(t)); !slices.Contains(ks, "profile.password.reset") || !slices.Contains(ks, "password.reset.request") {
				t.Fatalf("audit kinds %v", ks)
			}
		})
	}
}

// TestAttackPasswordResetEnumeration: an unknown login, an officer's login, a PESEL without a profile and a holder
// whose contact channel is unconfirmed all get the same answers as a real holder, and no message is sent for them.
func TestAttackPasswordResetEnumeration(t *testing.T) {
	e := newEnv(t)
	e.activeProfile(t, "jan_ok", pesel)
	e.register(t, "ewa_ok", peselBorn(time.Date(1985, 5, 5, 0, 0, 0, 0, time.UTC), "2222")) // contact unconfirmed
	sentBefore := len(e.sent.Messages())
	for _, id := range []string{"nobody_here", "urzednik1", peselBorn(time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC), "3333"), "ewa_ok"} {
		if err := e.svc.RequestPasswordReset(ctx, id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		wantErr(t, e.svc.ResetPassword(ctx, id, "123456", newPassword), profile.ErrInvalidCode)
	}
	e.svc.WaitForDeliveries()
	if n := len(e.sent.Messages()); n != sentBefore {
		t.Fatalf("%d messages sent for identifiers without a recoverable profile", n-sentBefore)
	}
	// a real holder: the same answers
	if err := e.svc.RequestPasswordReset(ctx, "jan_ok"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.svc.ResetPassword(ctx, "jan_ok", wrongCode(e.lastCode(t, "jan_ok@example.test")), newPassword), profile.ErrInvalidCode)
	// the password rule about the login is told only after the right code, which stays usable
	var ve *profile.ValidationError
	if err := e.svc.ResetPassword(ctx, "nobody_here", "123456", "Nobody_here-2027"); !errors.Is(err, profile.ErrInvalidCode) {
		t.Fatalf("unknown login, password with the login: %v", err)
	}
	code := e.lastCode(t, "jan_ok@example.test")
	if err := e.svc.ResetPassword(ctx, "jan_ok", code, "Jan_ok-Haslo-2027"); !errors.As(err, &ve) {
		t.Fatalf("password with the login: %v", err)
	}
	if err := e.svc.ResetPassword(ctx, "jan_ok", code, newPassword); err != nil {
		t.Fatalf("the code after a refused password: %v", err)
	}
}

// TestAttackPasswordResetBruteForce: guessing reset codes is bounded by the code rules (three wrong entries kill a
// code, 20 wrong entries a day stop all codes of the profile), and a throttled holder answers as an unknown login.
func TestAttackPasswordResetBruteForce(t *testing.T) {
	e := newEnv(t)
	e.activeProfile(t, "jan_ok", pesel)
	guesses, accepted := 0, 0
	for round := 0; round < 12; round++ {
		e.clock.Advance(2 * time.Minute)
		if err := e.svc.RequestPasswordReset(ctx, "jan_ok"); err != nil {
			t.Fatal(err)
		}
		e.svc.WaitForDeliveries()
		real, _ := e.sent.Last("jan_ok@example.test")
		for g := 0; g < 5; g++ {
			guess := fmt.Sprintf("%06d", round*5+g)
			if guess == real.Code {
				continue
			}
			guesses++
			if err := e.svc.ResetPassword(ctx, "jan_ok", guess, newPassword); err == nil {
				accepted++
			} else if !errors.Is(err, profile.ErrInvalidCode) || errors.Is(err, profile.ErrThrottled) {
				t.Fatalf("guess %d: %v, want the unknown-login answer", guesses, err)
			}
		}
	}
	if accepted != 0 {
		t.Fatalf("%d guesses accepted", accepted)
	}
	var fails int
	for _, r := range e.auditRecords(t) {
		if r.Kind == "code.fail" || r.Kind == "code.kill" {
			fails++
		}
	}
	if fails > 20 {
		t.Fatalf("%d of %d guesses were checked; at most 20 a day may be", fails, guesses)
	}
	// while throttled, even the right code is refused
	if err := e.svc.RequestPasswordReset(ctx, "jan_ok"); err != nil {
		t.Fatal(err)
	}
	e.svc.WaitForDeliveries()
	if m, _ := e.sent.Last("jan_ok@example.test"); m.Code != "" {
		if err := e.svc.ResetPassword(ctx, "jan_ok", m.Code, newPassword); !errors.Is(err, profile.ErrInvalidCode) {
			t.Fatalf("throttled profile, right code: %v", err)
		}
	}
}

// TestHashSlots: no more than HashSlots password hashes run at once; beyond them, after HashWait, ErrBusy (a
// *ThrottledError), and a busy login is not counted as a failure.
func TestHashSlots(t *testing.T) {
	release := make(chan struct{})
	var peak, started atomic.Int32
	e := newEnv(t, func(o *profile.Options) {
		o.HashSlots, o.HashWait = 2, 20*time.Millisecond
		o.HashObserver = func(n int) {
			started.Add(1)
			if int32(n) > peak.Load() {
				peak.Store(int32(n))
			}
			<-release
		}
	})
	close(release) // New hashed nothing through the slots; let the setup through
	e.activeProfile(t, "jan_ok", pesel)
	release = make(chan struct{})
	// the observer reads the new channel: hold both slots
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.LoginFrom(ctx, fmt.Sprintf("192.0.2.%d", i), "jan_ok", password)
			errs <- err
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	busy := 0
	for busy < 6 && time.Now().Before(deadline) {
		select {
		case err := <-errs:
			if !errors.Is(err, profile.ErrBusy) || !errors.Is(err, profile.ErrThrottled) {
				t.Fatalf("beyond the slots: %v, want ErrBusy", err)
			}
			busy++
		case <-time.After(10 * time.Second):
		}
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a login holding a slot: %v", err)
		}
	}
	if busy != 6 || peak.Load() != 2 {
		t.Fatalf("%d busy, peak %d running; want 6 and 2", busy, peak.Load())
	}
	// busy attempts did not count: five wrong passwords are still allowed from one of their addresses
	for i := 0; i < 5; i++ {
		_, err := e.svc.LoginFrom(ctx, "192.0.2.3", "jan_ok", "Wrong-Password-1")
		wantErr(t, err, profile.ErrInvalidCredentials)
	}
}
