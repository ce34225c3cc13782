package xades_test

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// A signing certificate whose key usage does not allow document signatures fails verification (INDETERMINATE /
// CHAIN_CONSTRAINTS_FAILURE), and Sign refuses to make such a signature.
func TestSigningCertificateKeyUsage(t *testing.T) {
	p := testpki.New()
	for _, tc := range []struct {
		name string
		set  func(*x509.Certificate)
		ok   bool
	}{
		{"digitalSignature", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, true},
		{"nonRepudiation only", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageContentCommitment }, true},
		{"keyAgreement only", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyAgreement }, false},
		{"keyEncipherment only", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment }, false},
		{"TLS server certificate", func(c *x509.Certificate) {
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}, false},
		{"time-stamping certificate", func(c *x509.Certificate) {
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := testpki.LeafTemplate(testpki.Subject)
			tc.set(tmpl)
			id, err := p.IssueIdentity(tmpl, p.EC256.Key)
			if err != nil {
				t.Fatal(err)
			}
			opts := xades.SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: id.Chain}
			_, err = xades.Sign([]byte(attackDoc), opts)
			if (err == nil) != tc.ok {
				t.Fatalf("Sign: %v, want ok=%v", err, tc.ok)
			}
			signed, err := xades.SignIgnoringKeyUsage([]byte(attackDoc), opts)
			if err != nil {
				t.Fatal(err)
			}
			rep := verify.XML("a.xml", signed, &verify.Policy{Roots: []*x509.Certificate{p.Root}}, verify.XMLOptions{})
			s := rep.Signatures[0]
			switch {
			case tc.ok && s.Indication != verify.TotalPassed:
				t.Errorf("%s/%s %v", s.Indication, s.SubIndication, s.Reasons)
			case !tc.ok && (s.Indication != verify.Indeterminate || s.SubIndication != verify.ChainConstraintsFailure ||
				!strings.Contains(strings.Join(s.Reasons, " "), "may not sign documents")):
				t.Errorf("%s/%s %v, want INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE", s.Indication, s.SubIndication, s.Reasons)
			}
		})
	}
}
