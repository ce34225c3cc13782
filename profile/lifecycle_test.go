package profile_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/profile"
)

func TestTransitionTable(t *testing.T) {
	all := []profile.Status{profile.Pending, profile.Active, profile.Expired, profile.Revoked, profile.Invalid}
	allowed := map[[2]profile.Status]bool{
		{profile.Pending, profile.Active}:  true, // confirmation
		{profile.Pending, profile.Revoked}: true, // the applicant withdraws
		{profile.Pending, profile.Invalid}: true, // administrator
		{profile.Active, profile.Active}:   true, // extension
		{profile.Active, profile.Expired}:  true, // time
		{profile.Active, profile.Revoked}:  true, // holder
		{profile.Active, profile.Invalid}:  true, // administrator (death)
		{profile.Expired, profile.Invalid}: true,
		{profile.Revoked, profile.Invalid}: true,
	}
	for _, from := range all {
		for _, to := range all {
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				if got := profile.CanTransition(from, to); got != allowed[[2]profile.Status{from, to}] {
					t.Fatalf("CanTransition = %v", got)
				}
			})
		}
	}
}

func TestConfirmInPerson(t *testing.T) {
	e := newEnv(t)
	o := e.officer(t)
	doc := profile.IdentityDocument{Type: profile.IDCard, Number: "abc 123456"}
	r := e.register(t, "jan_ok", pesel)
	// contact first
	_, err := e.svc.ConfirmInPerson(ctx, o.ID, r.ApplicationNumber, doc)
	wantErr(t, err, profile.ErrContactUnconfirmed)
	if err := e.svc.ConfirmContact(ctx, r.ID, e.lastCode(t, "jan_ok@example.test")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		officer string
		appNo   string
		doc     profile.IdentityDocument
		want    error
	}{
		{"unknown officer", "nobody", r.ApplicationNumber, doc, profile.ErrForbidden},
		{"unknown application", o.ID, "PZ-0000-0000-0000", doc, profile.ErrNotFound},
		{"bad document type", o.ID, r.ApplicationNumber, profile.IdentityDocument{Type: "driving-licence", Number: "ABC123456"}, profile.ErrInvalid},
		{"bad ID card number", o.ID, r.ApplicationNumber, profile.IdentityDocument{Type: profile.IDCard, Number: "12"}, profile.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.ConfirmInPerson(ctx, tc.officer, tc.appNo, tc.doc)
			wantErr(t, err, tc.want)
		})
	}
	e.clock.Advance(13 * 24 * time.Hour)
	// lower case and O for 0 are read as the officer types them
	p, err := e.svc.ConfirmInPerson(ctx, o.ID, strings.ToLower(r.ApplicationNumber), doc)
	if err != nil {
		t.Fatal(err)
	}
	now := start.Add(13 * 24 * time.Hour)
	if p.Status != profile.Active || p.Temporary || p.Confirmation.Method != profile.InPerson ||
		p.Confirmation.By != "officer:"+o.ID || p.Confirmation.DocumentType != profile.IDCard ||
		!p.ActivatedAt.Equal(now) || p.Expires.Before(now.AddDate(3, 0, 0)) || p.Expires.After(now.AddDate(3, 0, 1)) {
		t.Fatalf("confirmed profile %+v %+v", p, p.Confirmation)
	}
	_, err = e.svc.ConfirmInPerson(ctx, o.ID, r.ApplicationNumber, doc)
	wantErr(t, err, profile.ErrTransition)
	recs := e.auditRecords(t)
	last := recs[len(recs)-1]
	if last.Kind != "profile.confirm" || last.Actor != "officer:"+o.ID || last.Details["method"] != "in-person" || last.Details["documentType"] != "id-card" {
		t.Fatalf("audit %+v", last)
	}
	for _, r := range recs {
		for _, v := range r.Details {
			if strings.Contains(v, "123456") {
				t.Fatalf("document number in the audit log: %+v", r)
			}
		}
	}
}

func TestApplicationsExpireAfter14Days(t *testing.T) {
	e := newEnv(t)
	o := e.officer(t)
	r := e.register(t, "jan_ok", pesel)
	e.svc.ConfirmContact(ctx, r.ID, e.lastCode(t, "jan_ok@example.test"))
	e.clock.Advance(14 * 24 * time.Hour)
	_, err := e.svc.ConfirmInPerson(ctx, o.ID, r.ApplicationNumber, profile.IdentityDocument{Type: profile.Passport, Number: "EA1234567"})
	wantErr(t, err, profile.ErrApplicationExpired)
	res, err := e.svc.Sweep(ctx)
	if err != nil || res.DeletedApplications != 1 {
		t.Fatalf("sweep %+v %v", res, err)
	}
	if _, err := e.svc.Get(ctx, r.ID); !errors.Is(err, profile.ErrNotFound) {
		t.Fatal("expired application kept")
	}
	// login and PESEL are free again
	r2 := e.register(t, "jan_ok", pesel)
	if _, err := e.svc.Get(ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
}

func TestVideoCallGivesATemporaryProfile(t *testing.T) {
	e := newEnv(t)
	o := e.officer(t)
	r := e.register(t, "jan_ok", pesel)
	e.svc.ConfirmContact(ctx, r.ID, e.lastCode(t, "jan_ok@example.test"))
	p, err := e.svc.ConfirmByVideoCall(ctx, o.ID, r.ApplicationNumber, profile.IdentityDocument{Type: profile.Passport, Number: "EA1234567"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Temporary || p.Confirmation.Method != profile.VideoCall || !p.Expires.Equal(start.Add(90*24*time.Hour)) {
		t.Fatalf("temporary profile %+v", p)
	}
	e.clock.Advance(80 * 24 * time.Hour)
	if _, err := e.svc.RequestExtensionCode(ctx, p.ID); !errors.Is(err, profile.ErrTransition) {
		t.Fatalf("temporary profile extended: %v", err)
	}
	e.clock.Advance(10 * 24 * time.Hour)
	res, err := e.svc.Sweep(ctx)
	if err != nil || res.ExpiredProfiles != 1 {
		t.Fatalf("sweep %+v %v", res, err)
	}
	if p, _ = e.svc.Get(ctx, p.ID); p.Status != profile.Expired {
		t.Fatalf("status %s", p.Status)
	}
}

func TestExtension(t *testing.T) {
	e := newEnv(t)
	p := e.activeProfile(t, "jan_ok", pesel)
	exp := *p.Expires
	if _, err := e.svc.RequestExtensionCode(ctx, p.ID); !errors.Is(err, profile.ErrTransition) {
		t.Fatalf("extension 3 years early: %v", err)
	}
	e.clock.t = exp.Add(-30 * 24 * time.Hour)
	if _, err := e.svc.RequestExtensionCode(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	c := e.lastCode(t, "jan_ok@example.test")
	_, err := e.svc.Extend(ctx, p.ID, wrongCode(c))
	wantErr(t, err, profile.ErrInvalidCode)
	got, err := e.svc.Extend(ctx, p.ID, c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != profile.Active || got.Expires.Sub(exp) < 3*365*24*time.Hour {
		t.Fatalf("extended to %v from %v", got.Expires, exp)
	}
	if _, err := e.svc.Extend(ctx, p.ID, c); !errors.Is(err, profile.ErrInvalidCode) {
		t.Fatal("extension code reused")
	}
	// an expired profile is not extended
	e.clock.t = got.Expires.Add(time.Minute)
	if _, err := e.svc.RequestExtensionCode(ctx, p.ID); !errors.Is(err, profile.ErrNotActive) {
		t.Fatalf("expired profile: %v", err)
	}
}

func TestRevocationAndInvalidation(t *testing.T) {
	e := newEnv(t)
	p := e.activeProfile(t, "jan_ok", pesel)
	sess, err := e.svc.Login(ctx, "jan_ok", password)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Revoke(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, sess.Token); !errors.Is(err, profile.ErrUnauthenticated) {
		t.Fatal("session survived revocation")
	}
	if _, err := e.svc.Login(ctx, "jan_ok", password); !errors.Is(err, profile.ErrInvalidCredentials) {
		t.Fatalf("revoked holder logged in: %v", err)
	}
	wantErr(t, e.svc.Revoke(ctx, p.ID), profile.ErrTransition)
	wantErr(t, e.svc.Invalidate(ctx, "", p.ID, ""), profile.ErrInvalid)
	if err := e.svc.Invalidate(ctx, "admin1", p.ID, "zgon (rejestr PESEL)"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.svc.Invalidate(ctx, "admin1", p.ID, "again"), profile.ErrTransition)
	wantErr(t, e.svc.Revoke(ctx, "nobody"), profile.ErrNotFound)
	got, _ := e.svc.Get(ctx, p.ID)
	if got.Status != profile.Invalid {
		t.Fatalf("status %s", got.Status)
	}
	var trail []string
	for _, r := range e.auditRecords(t) {
		if r.Kind == "profile.status" && r.Subject == p.ID {
			trail = append(trail, r.Details["from"]+"→"+r.Details["to"]+" by "+strings.SplitN(r.Actor, ":", 2)[0])
		}
	}
	if got := strings.Join(trail, ", "); got != "pending→active by officer, active→revoked by holder, revoked→invalid by admin" {
		t.Fatalf("status trail: %s", got)
	}
}

func TestIdentityProviderConfirmation(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	keys := map[string]profile.IdPKey{
		"bank-ec":  {Issuer: "https://bank.example/pz", Key: ec.Public()},
		"bank-rsa": {Issuer: "https://bank2.example/pz", Key: rs.Public()},
		"bank-ed":  {Issuer: "https://bank3.example/pz", Key: ed.Public()},
	}
	e := newEnv(t, func(o *profile.Options) { o.IdPKeys = keys })
	mk := func(appNo string) profile.IdPAssertion {
		return profile.IdPAssertion{Issuer: "https://bank.example/pz", Audience: "trustsign", ID: "as-1", IssuedAt: start.Unix(),
			ExpiresAt: start.Add(5 * time.Minute).Unix(), ApplicationNumber: appNo, PESEL: pesel, FirstName: "JAN", Surname: "PRÓBNY"}
	}
	r := e.register(t, "jan_ok", pesel)
	e.svc.ConfirmContact(ctx, r.ID, e.lastCode(t, "jan_ok@example.test"))
	good, _ := profile.SignIdPAssertion(ec, "bank-ec", mk(r.ApplicationNumber))
	tamper := func(tok string) string {
		parts := strings.Split(tok, ".")
		parts[1] = parts[1][:len(parts[1])-2] + "xx"
		return strings.Join(parts, ".")
	}
	sign := func(key interface{}, kid string, mutate func(*profile.IdPAssertion)) string {
		a := mk(r.ApplicationNumber)
		mutate(&a)
		var tok string
		var err error
		switch k := key.(type) {
		case *ecdsa.PrivateKey:
			tok, err = profile.SignIdPAssertion(k, kid, a)
		case *rsa.PrivateKey:
			tok, err = profile.SignIdPAssertion(k, kid, a)
		case ed25519.PrivateKey:
			tok, err = profile.SignIdPAssertion(k, kid, a)
		}
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"tampered payload", tamper(good), profile.ErrAssertion},
		{"not a JWS", "abc.def", profile.ErrAssertion},
		{"unknown key id", sign(ec, "bank-x", func(a *profile.IdPAssertion) {}), profile.ErrAssertion},
		{"signed by another key", sign(other, "bank-ec", func(a *profile.IdPAssertion) {}), profile.ErrAssertion},
		{"key of another issuer", sign(rs, "bank-rsa", func(a *profile.IdPAssertion) {}), profile.ErrAssertion},
		{"wrong audience", sign(ec, "bank-ec", func(a *profile.IdPAssertion) { a.Audience = "other" }), profile.ErrAssertion},
		{"expired", sign(ec, "bank-ec", func(a *profile.IdPAssertion) { a.ExpiresAt = start.Unix() }), profile.ErrAssertion},
		{"too long-lived", sign(ec, "bank-ec", func(a *profile.IdPAssertion) { a.ExpiresAt = start.Add(time.Hour).Unix() }), profile.ErrAssertion},
		{"another PESEL", sign(ec, "bank-ec", func(a *profile.IdPAssertion) { a.PESEL = "02211307589" }), profile.ErrAssertion},
		{"another surname", sign(ec, "bank-ec", func(a *profile.IdPAssertion) { a.Surname = "KOWALSKI" }), profile.ErrAssertion},
		{"unknown application", sign(ec, "bank-ec", func(a *profile.IdPAssertion) { a.ApplicationNumber = "PZ-0000-0000-0000" }), profile.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.ConfirmWithIdP(ctx, tc.tok)
			wantErr(t, err, tc.want)
		})
	}
	for _, k := range []struct {
		key interface{}
		kid string
		iss string
	}{{rs, "bank-rsa", "https://bank2.example/pz"}, {ed, "bank-ed", "https://bank3.example/pz"}} {
		tok := sign(k.key, k.kid, func(a *profile.IdPAssertion) { a.Issuer = k.iss; a.ApplicationNumber = "PZ-0000-0000-0000" })
		if _, err := e.svc.ConfirmWithIdP(ctx, tok); !errors.Is(err, profile.ErrNotFound) {
			t.Fatalf("%s assertion not verified: %v", k.kid, err)
		}
	}
	p, err := e.svc.ConfirmWithIdP(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != profile.Active || p.Confirmation.Method != profile.IdentityProvider || p.Confirmation.By != "idp:https://bank.example/pz" {
		t.Fatalf("%+v", p.Confirmation)
	}
	if _, err := e.svc.ConfirmWithIdP(ctx, good); !errors.Is(err, profile.ErrTransition) {
		t.Fatalf("assertion replayed: %v", err)
	}
}
