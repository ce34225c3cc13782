package pades_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"testing"

	"github.com/digitorus/pdfsign"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
)

// TestPdfsignCrossCheck compares with digitorus/pdfsign, the named dependency that trustsign does not use in
// the product (it holds whole files in memory, see the package documentation of pades/bench): a PAdES-B
// signature made by pdfsign verifies in ours, and ours verifies in pdfsign.
func TestPdfsignCrossCheck(t *testing.T) {
	p := testpki.New()
	in := simplePDF(2, "")
	pol := testPolicy()

	doc, err := pdfsign.Open(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	doc.Sign(p.RSA.Key, p.RSA.Cert, p.Intermediate).Format(pdfsign.PAdES_B).Reason("zażółć gęślą jaźń")
	var theirs bytes.Buffer
	if _, err := doc.Write(&theirs); err != nil {
		t.Fatal(err)
	}
	b := theirs.Bytes()
	rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), pol)
	if rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 {
		for _, s := range rep.Signatures {
			t.Logf("%s: %s %q", s.ID, s.Indication, s.Reasons)
		}
		t.Fatalf("pdfsign's signature in ours: %s %s", rep.Indication, rep.Error)
	}
	t.Logf("pdfsign's signature: %s, level %s", rep.Indication, rep.Signatures[0].Level)

	// pdfsign insists on an extendedKeyUsage extension, which the shared test signers lack: issue one with it.
	tmpl := testpki.LeafTemplate(testpki.Subject)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	withEKU, err := p.IssueIdentity(tmpl, p.RSA.Key)
	if err != nil {
		t.Fatal(err)
	}
	ours := sign(t, in, opts(withEKU))
	d2, err := pdfsign.Open(bytes.NewReader(ours), int64(len(ours)))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.Root)
	res := d2.Verify().TrustedRoots(roots).SkipRevocationCheck(true).ExternalChecks(false)
	if !res.Valid() {
		for _, s := range res.Signatures() {
			t.Errorf("pdfsign rejects our signature: errors %v warnings %v", s.Errors, s.Warnings)
		}
	}
}
