package revocation

import (
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
)

// FuzzCheckAnswers feeds arbitrary bytes to what reads a server's answer (OCSP check, CRL check, caIssuers
// parsing): errors are fine, panics and accepted junk are not.
func FuzzCheckAnswers(f *testing.F) {
	p := testpki.New()
	r, err := p.StartRevocation(testpki.RevocationGood)
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close()
	leaf, err := r.Signer()
	if err != nil {
		f.Fatal(err)
	}
	for _, mode := range []testpki.RevocationMode{testpki.RevocationGood, testpki.RevocationRevoked} {
		r.SetMode(mode)
		if der, err := r.OCSPResponse(leaf.Cert); err == nil {
			f.Add(der)
		}
		if der, err := r.CRL(leaf.Cert); err == nil {
			f.Add(der)
		}
	}
	f.Add(r.Intermediate.Raw)
	f.Add(testpki.CertsPEM(r.Intermediate, p.Root))
	now := time.Now()
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := checkOCSP(b, leaf.Cert, r.Intermediate, nil, now); err == nil {
			// Check matched the CertID: an accepted answer is about this certificate
			if a.Kind != KindOCSP {
				t.Fatalf("accepted an OCSP answer as %s", a.Kind)
			}
		}
		_, _ = checkCRL(b, leaf.Cert, r.Intermediate, now)
		_, _ = parseCerts(b)
	})
}
