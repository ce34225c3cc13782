package profile_test

import (
	"testing"

	"github.com/trustsign/trustsign/profile"
)

func TestDeclineInPerson(t *testing.T) {
	e := newEnv(t)
	r := e.register(t, "decline1", "44051401359")
	o := e.officer(t)
	wantErr(t, e.svc.DeclineInPerson(ctx, o.ID, r.ApplicationNumber, "no-reason"), profile.ErrInvalid)
	wantErr(t, e.svc.DeclineInPerson(ctx, o.ID, "PZ-0000-0000-0000", profile.DeclineOther), profile.ErrNotFound)
	wantErr(t, e.svc.DeclineInPerson(ctx, "not-an-officer", r.ApplicationNumber, profile.DeclineOther), profile.ErrForbidden)
	if err := e.svc.DeclineInPerson(ctx, o.ID, r.ApplicationNumber, profile.DeclineDocumentMismatch); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Get(ctx, r.ID)
	if err != nil || p.Status != profile.Pending {
		t.Fatalf("after declining: %v %v", p.Status, err)
	}
	var found bool
	for _, rec := range e.auditRecords(t) {
		if rec.Kind == "profile.confirm.decline" && rec.Subject == r.ID && rec.Actor == "officer:"+o.ID && rec.Details["reason"] == "document-mismatch" {
			found = true
		}
	}
	if !found {
		t.Error("no audit record of the refusal")
	}
	// a confirmed profile is no longer an application to decline
	a := e.activeProfile(t, "decline2", "02211307589")
	wantErr(t, e.svc.DeclineInPerson(ctx, o.ID, a.ApplicationNumber, profile.DeclineOther), profile.ErrTransition)
}

func TestClientByID(t *testing.T) {
	e := newEnv(t)
	c, _, err := e.svc.CreateClient(ctx, "e-Recepta", []profile.Scope{profile.ScopeSign})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Client(ctx, c.ID)
	if err != nil || got.Name != "e-Recepta" || !got.Has(profile.ScopeSign) {
		t.Fatalf("client %+v %v", got, err)
	}
	_, err = e.svc.Client(ctx, "nobody")
	wantErr(t, err, profile.ErrNotFound)
}
