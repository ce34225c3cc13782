package profile_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/trustsign/trustsign/profile"
)

// FuzzConfirmWithIdP: arbitrary assertions are refused with ErrAssertion (or ErrNotFound for a well-signed one
// naming no application), never accepted, never a panic.
func FuzzConfirmWithIdP(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := profile.SignIdPAssertion(key, "bank", profile.IdPAssertion{Issuer: "https://bank.example", Audience: "trustsign",
		ID: "1", IssuedAt: start.Unix(), ExpiresAt: start.Unix() + 60, ApplicationNumber: "PZ-0000-0000-0000", PESEL: pesel})
	f.Add(good)
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("")
	e := newEnv(f, func(o *profile.Options) {
		o.IdPKeys = map[string]profile.IdPKey{"bank": {Issuer: "https://bank.example", Key: key.Public()}}
	})
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := e.svc.ConfirmWithIdP(ctx, tok)
		if err == nil || !(errors.Is(err, profile.ErrAssertion) || errors.Is(err, profile.ErrNotFound)) {
			t.Fatalf("assertion %q: %v", tok, err)
		}
	})
}
