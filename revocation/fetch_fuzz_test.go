package revocation

import (
	"crypto/x509"
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
		if resp, err := checkOCSP(b, leaf.Cert, r.Intermediate, now); err == nil {
			if resp.SerialNumber.Cmp(leaf.Cert.SerialNumber) != 0 {
				t.Fatalf("accepted an answer for serial %v", resp.SerialNumber)
			}
		}
		if crl, err := x509.ParseRevocationList(b); err == nil {
			_ = checkCRL(crl, leaf.Cert, r.Intermediate, now)
		}
		_, _ = parseCerts(b)
	})
}
