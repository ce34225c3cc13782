package profile_test

import (
	"testing"

	"github.com/trustsign/trustsign/profile"
)

func TestOfficersListDisableReset(t *testing.T) {
	e := newEnv(t)
	const pw, newPW = "Urzednik-Test-2026!", "Nowe-Haslo-Urzednika-2026"
	a, err := e.svc.CreateOfficer(ctx, "officer1", pw, "Anna Nowak")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateOfficer(ctx, "officer2", pw, ""); err != nil {
		t.Fatal(err)
	}
	sess, err := e.svc.Login(ctx, "officer1", pw)
	if err != nil {
		t.Fatal(err)
	}
	all, err := e.svc.Officers(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("Officers: %+v %v", all, err)
	}

	// a reset takes the new password, ends the open sessions, and keeps the officer enabled
	wantErr(t, e.svc.ResetOfficerPassword(ctx, "test", "officer1", "short"), profile.ErrInvalid)
	wantErr(t, e.svc.ResetOfficerPassword(ctx, "test", "nobody", newPW), profile.ErrNotFound)
	if err := e.svc.ResetOfficerPassword(ctx, "test", "OFFICER1", newPW); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, sess.Token); err == nil {
		t.Error("a session opened before the reset still works")
	}
	wantErr(t, func() error { _, err := e.svc.Login(ctx, "officer1", pw); return err }(), profile.ErrInvalidCredentials)
	sess, err = e.svc.Login(ctx, "officer1", newPW)
	if err != nil {
		t.Fatalf("login with the new password: %v", err)
	}

	// disabling ends the sessions and refuses logins
	wantErr(t, e.svc.DisableOfficer(ctx, "test", "nobody"), profile.ErrNotFound)
	if err := e.svc.DisableOfficer(ctx, "test", "officer1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, sess.Token); err == nil {
		t.Error("a disabled officer's session still works")
	}
	wantErr(t, func() error { _, err := e.svc.Login(ctx, "officer1", newPW); return err }(), profile.ErrInvalidCredentials)
	if o, err := e.svc.Officer(ctx, a.ID); err != nil || !o.Disabled {
		t.Errorf("officer after disable: %+v %v", o, err)
	}

	// a holder's login is not an officer's
	e.register(t, "jan_holder", pesel)
	wantErr(t, e.svc.DisableOfficer(ctx, "test", "jan_holder"), profile.ErrNotFound)
}

func TestClientsList(t *testing.T) {
	e := newEnv(t)
	c, _, err := e.svc.CreateClient(ctx, "Apteka", []profile.Scope{profile.ScopeSign})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DisableClient(ctx, "test", c.ID); err != nil {
		t.Fatal(err)
	}
	all, err := e.svc.Clients(ctx)
	if err != nil || len(all) != 1 || all[0].ID != c.ID || !all[0].Disabled || all[0].Name != "Apteka" {
		t.Errorf("Clients: %+v %v", all, err)
	}
}
