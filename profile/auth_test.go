package profile_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/profile"
)

func TestLoginAndSessions(t *testing.T) {
	e := newEnv(t)
	p := e.activeProfile(t, "jan_ok", pesel)
	s, err := e.svc.Login(ctx, "JAN_OK", password)
	if err != nil {
		t.Fatal(err)
	}
	if s.Role != profile.RoleHolder || s.SubjectID != p.ID || !strings.HasPrefix(s.Token, "tss_") || len(s.Token) < 40 {
		t.Fatalf("session %+v", s)
	}
	got, err := e.svc.Authenticate(ctx, s.Token)
	if err != nil || got.SubjectID != p.ID || got.Token != "" {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	// use keeps it alive past the idle timeout...
	for i := 0; i < 4; i++ {
		e.clock.Advance(10 * time.Minute)
		if _, err := e.svc.Authenticate(ctx, s.Token); err != nil {
			t.Fatalf("active session ended after %d min: %v", (i+1)*10, err)
		}
	}
	// ...but not idleness
	e.clock.Advance(15 * time.Minute)
	wantErr(t, func() error { _, err := e.svc.Authenticate(ctx, s.Token); return err }(), profile.ErrUnauthenticated)
	// and not past the absolute expiry
	s2, _ := e.svc.Login(ctx, "jan_ok", password)
	for i := 0; i < 8*6; i++ {
		e.clock.Advance(10 * time.Minute)
		if _, err := e.svc.Authenticate(ctx, s2.Token); err != nil {
			if i < 8*6-1 {
				t.Fatalf("ended after %d min", (i+1)*10)
			}
		}
	}
	wantErr(t, func() error { _, err := e.svc.Authenticate(ctx, s2.Token); return err }(), profile.ErrUnauthenticated)
	s3, _ := e.svc.Login(ctx, "jan_ok", password)
	if err := e.svc.Logout(ctx, s3.Token); err != nil {
		t.Fatal(err)
	}
	wantErr(t, func() error { _, err := e.svc.Authenticate(ctx, s3.Token); return err }(), profile.ErrUnauthenticated)
	for _, bad := range []string{"", "tss_nonsense", "Bearer x", strings.Repeat("a", 500)} {
		wantErr(t, func() error { _, err := e.svc.Authenticate(ctx, bad); return err }(), profile.ErrUnauthenticated)
	}
	// tokens are stored hashed
	path := e.db.Path()
	e.db.Close()
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(s2.Token[4:])) {
		t.Fatal("session token stored in clear")
	}
}

// TestLoginThrottling: after five failures for one login from one address, each further attempt must wait 1 s,
// 2 s, 4 s … (at most 15 minutes) after the previous failure; a throttled attempt is refused even with the right
// password, and once the delay has passed the right password gets in and clears the address's count. Unknown
// logins are throttled alike.
func TestLoginThrottling(t *testing.T) {
	e := newEnv(t)
	e.activeProfile(t, "jan_ok", pesel)
	const addr = "192.0.2.10"
	login := func(l, pw string) error { _, err := e.svc.LoginFrom(ctx, addr, l, pw); return err }
	retryAfter := func(err error) time.Duration {
		var te *profile.ThrottledError
		if !errors.As(err, &te) {
			return 0
		}
		return te.RetryAfter
	}
	for _, l := range []string{"jan_ok", "nobody_here"} {
		t.Run(l, func(t *testing.T) {
			for i := 0; i < 5; i++ {
				wantErr(t, login(l, "Wrong-Password-1"), profile.ErrInvalidCredentials)
			}
			want := time.Second
			for i := 0; i < 14; i++ {
				err := login(l, password)
				if got := retryAfter(err); got != want {
					t.Fatalf("after %d failures: %v (retry after %v), want a wait of %v", 5+i, err, got, want)
				}
				e.clock.Advance(want)
				wantErr(t, login(l, "Wrong-Password-1"), profile.ErrInvalidCredentials)
				want = min(2*want, 15*time.Minute)
			}
			if got := retryAfter(login(l, password)); got != 15*time.Minute {
				t.Fatalf("the delay grew to %v, want the 15-minute cap", got)
			}
			e.clock.Advance(15 * time.Minute)
		})
	}
	if err := login("jan_ok", password); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
	// a success clears the address's count
	for i := 0; i < 5; i++ {
		wantErr(t, login("jan_ok", "Wrong-Password-1"), profile.ErrInvalidCredentials)
	}
}

// TestAttackLockoutOfHolder: an attacker's failures do not keep the holder out. From the attacker's own
// addresses further guesses are delayed; the holder, from an address that logged in before, gets in at once, and
// from a new address after at most the per-login delay (one minute).
func TestAttackLockoutOfHolder(t *testing.T) {
	e := newEnv(t)
	e.activeProfile(t, "jan_ok", pesel)
	const home = "198.51.100.7"
	if _, err := e.svc.LoginFrom(ctx, home, "jan_ok", password); err != nil {
		t.Fatal(err)
	}
	// one attacker address: five failures, then delayed
	for i := 0; i < 5; i++ {
		_, err := e.svc.LoginFrom(ctx, "203.0.113.1", "jan_ok", "Wrong-Password-1")
		wantErr(t, err, profile.ErrInvalidCredentials)
	}
	_, err := e.svc.LoginFrom(ctx, "203.0.113.1", "jan_ok", "Wrong-Password-1")
	wantErr(t, err, profile.ErrThrottled)
	if _, err := e.svc.LoginFrom(ctx, "192.0.2.99", "jan_ok", password); err != nil {
		t.Fatalf("the holder from another address after 5 failures elsewhere: %v", err)
	}
	// many attacker addresses: the login's own delay starts, but not for the holder's known address
	for i := 0; i < 40; i++ {
		e.svc.LoginFrom(ctx, fmt.Sprintf("203.0.113.%d", 10+i), "jan_ok", "Wrong-Password-1")
	}
	_, err = e.svc.LoginFrom(ctx, "192.0.2.200", "jan_ok", "Wrong-Password-1")
	var te *profile.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter > time.Minute {
		t.Fatalf("a new address during a distributed attack: %v, want a delay of at most a minute", err)
	}
	if _, err := e.svc.LoginFrom(ctx, home, "jan_ok", password); err != nil {
		t.Fatalf("the holder from a known address during the attack: %v", err)
	}
	e.clock.Advance(te.RetryAfter)
	if _, err := e.svc.LoginFrom(ctx, "192.0.2.200", "jan_ok", password); err != nil {
		t.Fatalf("the holder from a new address after the delay: %v", err)
	}
}

// A pending application is not an account: its login answers like a wrong password (as it must for an
// application filed with someone else's login), and logs in once confirmed.
func TestPendingApplicantsCannotLogIn(t *testing.T) {
	e := newEnv(t)
	e.register(t, "jan_ok", pesel)
	if _, err := e.svc.Login(ctx, "jan_ok", password); !errors.Is(err, profile.ErrInvalidCredentials) {
		t.Fatalf("pending applicant logged in: %v", err)
	}
	e.activeProfile(t, "ewa_ok", "02211307589")
	if _, err := e.svc.Login(ctx, "ewa_ok", password); err != nil {
		t.Fatalf("active holder: %v", err)
	}
}

func TestOfficers(t *testing.T) {
	e := newEnv(t)
	o, err := e.svc.CreateOfficer(ctx, "officer1", "Urzednik-Test-2026!", "Anna Nowak")
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.svc.Login(ctx, "officer1", "Urzednik-Test-2026!")
	if err != nil || s.Role != profile.RoleOfficer || s.SubjectID != o.ID {
		t.Fatalf("officer login: %+v %v", s, err)
	}
	got, err := e.svc.AuthenticateOfficer(ctx, "officer1", "Urzednik-Test-2026!")
	if err != nil || got.ID != o.ID || got.Name != "Anna Nowak" {
		t.Fatalf("AuthenticateOfficer: %+v %v", got, err)
	}
	if _, err := e.svc.AuthenticateOfficer(ctx, "officer1", "nope"); !errors.Is(err, profile.ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateOfficer(ctx, "OFFICER1", "Urzednik-Test-2026!", ""); !errors.Is(err, profile.ErrInvalid) {
		t.Fatalf("duplicate officer login: %v", err)
	}
	if _, err := e.svc.CreateOfficer(ctx, "officer2", "password", ""); !errors.Is(err, profile.ErrInvalid) {
		t.Fatalf("weak officer password: %v", err)
	}
	// a holder cannot take an officer's login
	r, _ := e.svc.Register(ctx, app("officer1", pesel))
	e.mustBeDecoy(t, r, "officer1@example.test")
	if s, err := e.svc.Login(ctx, "officer1", "Urzednik-Test-2026!"); err != nil || s.SubjectID != o.ID {
		t.Fatalf("a holder took an officer's login: %+v %v", s, err)
	}
	// a holder's AuthenticateOfficer fails
	p := e.activeProfile(t, "jan_ok", "02211307589")
	_ = p
	if _, err := e.svc.AuthenticateOfficer(ctx, "jan_ok", password); !errors.Is(err, profile.ErrInvalidCredentials) {
		t.Fatalf("holder as officer: %v", err)
	}
}

func TestClients(t *testing.T) {
	e := newEnv(t)
	scopes, err := profile.ParseScopes("sign, lookup,sign")
	if err != nil || len(scopes) != 2 {
		t.Fatalf("scopes %v %v", scopes, err)
	}
	if _, err := profile.ParseScopes("sign,admin"); !errors.Is(err, profile.ErrInvalid) {
		t.Fatal("unknown scope accepted")
	}
	c, key, err := e.svc.CreateClient(ctx, "Apteka Testowa", scopes)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "tsk_") || len(key) < 4+43 {
		t.Fatalf("key %q: want 256 bits", key)
	}
	got, err := e.svc.AuthenticateClient(ctx, key)
	if err != nil || got.ID != c.ID || !got.Has(profile.ScopeLookup) || got.Has(profile.ScopeVerify) {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	for _, bad := range []string{"", "tsk_", key + "x", "Bearer " + key} {
		wantErr(t, func() error { _, err := e.svc.AuthenticateClient(ctx, bad); return err }(), profile.ErrUnauthenticated)
	}
	if err := e.svc.DisableClient(ctx, "admin1", c.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, func() error { _, err := e.svc.AuthenticateClient(ctx, key); return err }(), profile.ErrForbidden)
	if _, _, err := e.svc.CreateClient(ctx, "x", nil); !errors.Is(err, profile.ErrInvalid) {
		t.Fatal("client without scopes")
	}
	path := e.db.Path()
	e.db.Close()
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(key[4:])) {
		t.Fatal("API key stored in clear")
	}
}

func TestLookupByPESEL(t *testing.T) {
	e := newEnv(t)
	p := e.activeProfile(t, "jan_ok", pesel)
	pending := e.register(t, "ewa_ok", "02211307589")
	_ = pending
	c, key, _ := e.svc.CreateClient(ctx, "Gabinet", []profile.Scope{profile.ScopeLookup})
	client, _ := e.svc.AuthenticateClient(ctx, key)
	signOnly, _, _ := e.svc.CreateClient(ctx, "Apteka", []profile.Scope{profile.ScopeSign})
	r, err := e.svc.LookupByPESEL(ctx, client, pesel)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != profile.Active || r.ProfileID != p.ID || r.Login != "jan_ok" || r.FirstName != "Jan" ||
		r.Email != "jan_ok@example.test" || r.Phone != "+48500100300" || r.ConfirmationMethod != profile.InPerson ||
		r.Expires == nil || r.PESEL != pesel {
		t.Fatalf("lookup %+v", r)
	}
	tests := []struct {
		name   string
		client profile.Client
		pesel  string
		want   error
	}{
		{"no lookup scope", signOnly, pesel, profile.ErrForbidden},
		{"pending application is no profile", client, "02211307589", profile.ErrNotFound},
		{"unknown PESEL", client, "90010112318", profile.ErrNotFound},
		{"malformed PESEL", client, "12345", profile.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.LookupByPESEL(ctx, tc.client, tc.pesel)
			wantErr(t, err, tc.want)
		})
	}
	// expiry shows before the sweep runs
	e.clock.t = p.Expires.Add(time.Second)
	if r, _ := e.svc.LookupByPESEL(ctx, client, pesel); r.Status != profile.Expired {
		t.Fatalf("status after expiry: %s", r.Status)
	}
	n := 0
	for _, rec := range e.auditRecords(t) {
		if rec.Kind == "lookup.pesel" {
			n++
			if rec.Actor != "client:"+c.ID || rec.Details["peselHash"] == "" {
				t.Fatalf("lookup audit %+v", rec)
			}
		}
		if strings.Contains(rec.Subject+rec.Actor, pesel) {
			t.Fatal("PESEL in the audit log")
		}
		for _, v := range rec.Details {
			if strings.Contains(v, pesel) || strings.Contains(v, "02211307589") {
				t.Fatalf("PESEL in the audit log: %+v", rec)
			}
		}
	}
	if n != 4 { // found, pending (not found), unknown, expired — not the malformed or unauthorised calls
		t.Fatalf("%d lookups audited", n)
	}
}
