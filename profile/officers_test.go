package profile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store/bbolt"
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

// An administrator lists the officers, resets a forgotten password and disables one who left.
func ExampleService_ResetOfficerPassword() {
	dir, _ := os.MkdirTemp("", "trustsign")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, bbolt.FileName), bbolt.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	svc, err := profile.New(db, &notify.Recorder{}, profile.Options{
		Secret: []byte("a secret of at least 32 bytes, kept apart from the database"),
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if _, err := svc.CreateOfficer(ctx, "urzednik1", "Urzednik-Test-2026!", "Jan Urzędnik"); err != nil {
		panic(err)
	}
	fmt.Println(svc.ResetOfficerPassword(ctx, "admin", "urzednik1", "Nowe-Haslo-Urzednika-2026"))
	fmt.Println(svc.DisableOfficer(ctx, "admin", "urzednik1"))
	all, _ := svc.Officers(ctx)
	fmt.Println(all[0].Login, all[0].Disabled)
	fmt.Println(svc.DisableOfficer(ctx, "admin", "nobody"))
	// Output:
	// <nil>
	// <nil>
	// urzednik1 true
	// profile: not found
}
