package profile_test

import (
	"errors"
	"testing"

	"github.com/trustsign/trustsign/profile"
)

// An impostor files first with someone's PESEL (a pending application holds the PESEL index); the real person
// files next (sharing it). An administrator invalidates the impostor's application (fraud). The index still
// points to the invalidated application, so the real person's application can never be confirmed (ClaimPESEL:
// "held by a profile that is not pending"), every later registration with that PESEL is a decoy, and the
// integrators' lookup returns the impostor's data under the person's PESEL.
func TestAttackInvalidatedImpostorApplicationLocksPESELOut(t *testing.T) {
	e := newEnv(t)
	impostor := e.register(t, "podszywacz", pesel)
	real := e.register(t, "prawdziwy", pesel)
	if err := e.svc.ConfirmContact(ctx, real.ID, e.lastCode(t, "prawdziwy@example.test")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Invalidate(ctx, "admin1", impostor.ID, "wniosek oszukańczy"); err != nil {
		t.Fatal(err)
	}
	o := e.officer(t)
	if _, err := e.svc.ConfirmInPerson(ctx, o.ID, real.ApplicationNumber,
		profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"}); err != nil {
		t.Fatalf("the real person's application cannot be confirmed after the impostor's was invalidated: %v", err)
	}
}

// The same invalidated impostor application (it was never confirmed, it is nobody's profile) is what an
// integrator's lookup by the real person's PESEL returns: status invalid, with the impostor's name, login,
// e-mail and phone, as if it were that person's profile. A pending application is not a profile (ErrNotFound);
// an invalidated application is not one either.
func TestAttackLookupReturnsInvalidatedApplicationAsProfile(t *testing.T) {
	e := newEnv(t)
	impostor := e.register(t, "podszywacz", pesel)
	if err := e.svc.Invalidate(ctx, "admin1", impostor.ID, "wniosek oszukańczy"); err != nil {
		t.Fatal(err)
	}
	c, _, err := e.svc.CreateClient(ctx, "Gabinet", []profile.Scope{profile.ScopeLookup})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.svc.LookupByPESEL(ctx, c, pesel)
	if !errors.Is(err, profile.ErrNotFound) {
		t.Fatalf("lookup returns a never-confirmed application: status %s, login %q, e-mail %q (err %v)", r.Status, r.Login, r.Email, err)
	}
}
