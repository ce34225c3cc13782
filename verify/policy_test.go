package verify

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/xades"
)

func TestFutureSigningTime(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p := &Policy{Now: func() time.Time { return now }}
	for _, tc := range []struct {
		at     time.Time
		future bool
	}{
		{now.Add(-time.Hour), false},
		{now.Add(4 * time.Minute), false}, // clock skew
		{now.Add(6 * time.Minute), true},
		{now.AddDate(1, 0, 0), true},
	} {
		at := tc.at
		if got := p.FutureSigningTime(&at) != ""; got != tc.future {
			t.Errorf("%s: future=%v", at, got)
		}
	}
	if p.FutureSigningTime(nil) != "" {
		t.Error("no claimed time is not a future time")
	}
}

func TestFutureSigningTimeInReports(t *testing.T) {
	pki := testpki.New()
	signed, err := xades.Sign([]byte(`<a>x</a>`), xades.SignOptions{Signer: pki.RSA.Key, Certificate: pki.RSA.Cert,
		Chain: pki.RSA.Chain, SigningTime: time.Now().Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	rep := XML("a.xml", signed, &Policy{Roots: []*x509.Certificate{pki.Root}}, XMLOptions{})
	if s := rep.Signatures[0]; s.Indication != Indeterminate || s.SubIndication != SigConstraintsFailure {
		t.Errorf("future signing time: %s/%s %v", s.Indication, s.SubIndication, s.Reasons)
	}
}
