package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/xades"
)

// A trusted-profile identity is the trusted-profile service's word only when its seal signed it: with the seals
// named in the policy, the same identity written by another trusted signer is reported as claimedProfile.
func TestProfileIdentityBoundToTheSeal(t *testing.T) {
	pki := testpki.New()
	seal, other := pki.EC256, pki.RSA
	in := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	signXML := func(id testpki.Identity) []byte {
		out, err := xades.Sign([]byte(`<a>x</a>`), xades.SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: id.Chain,
			Profile: &xades.Profile{FirstName: "ANNA", Surname: "TESTOWA", PESEL: "44051401359", ProfileID: "1", Login: "atestowa"}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	signPDF := func(id testpki.Identity) []byte {
		var out bytes.Buffer
		if _, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, pades.SignOptions{
			Signer: id.Key, Certificate: id.Cert, Chain: id.Chain[1:],
			Profile: &pades.Profile{FirstName: "ANNA", Surname: "TESTOWA", PESEL: "44051401359", Login: "atestowa"}}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	for _, tc := range []struct {
		name    string
		seals   []*x509.Certificate
		signer  testpki.Identity
		trusted bool
	}{
		{"no seals named: every identity shown as before", nil, other, true},
		{"signed by the named seal", []*x509.Certificate{seal.Cert}, seal, true},
		{"signed by another trusted signer", []*x509.Certificate{seal.Cert}, other, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Policy{Roots: []*x509.Certificate{pki.Root}, ProfileSeals: tc.seals}
			for format, data := range map[string][]byte{"xml": signXML(tc.signer), "pdf": signPDF(tc.signer)} {
				rep := Bytes(context.Background(), "f", data, p, Options{})
				s := rep.Signatures[0]
				if rep.Indication != TotalPassed {
					t.Fatalf("%s: %s %v", format, rep.Indication, s.Reasons)
				}
				switch {
				case tc.trusted && (s.TrustedProfile == nil || s.TrustedProfile.PESEL != "44051401359" || s.ClaimedProfile != nil):
					t.Errorf("%s: trusted %+v claimed %+v", format, s.TrustedProfile, s.ClaimedProfile)
				case !tc.trusted && (s.TrustedProfile != nil || s.ClaimedProfile == nil || s.ClaimedProfile.PESEL != "44051401359" || len(s.Warnings) == 0):
					t.Errorf("%s: trusted %+v claimed %+v warnings %v", format, s.TrustedProfile, s.ClaimedProfile, s.Warnings)
				}
			}
		})
	}
}
