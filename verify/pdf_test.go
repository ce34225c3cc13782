package verify_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

// TestPDFCorpus checks every PDF row of shared/corpus/expectations.tsv with an empty trust store, by the rules of
// the acceptance corpus check: valid-crypto means every signature value verifies and nothing is TOTAL_FAILED;
// invalid means the defect is named (TOTAL_FAILED, a failed non-chain check, or a reported modification).
func TestPDFCorpus(t *testing.T) {
	dir := interoptest.CorpusDir(t)
	f, err := os.Open(filepath.Join(dir, "expectations.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 || cols[0] == "file" || !strings.HasSuffix(cols[0], ".pdf") {
			continue
		}
		file, want, why := cols[0], cols[2], cols[3]
		rows++
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), &verify.Policy{})
			t.Logf("%s: %s (error %q)", file, rep.Indication, rep.Error)
			for _, s := range rep.Signatures {
				t.Logf("  %s: %s/%s checks %+v level %s covered %v modified %v reasons %q", s.ID, s.Indication, s.SubIndication, s.Checks, s.Level, s.Covered, s.Modified, s.Reasons)
			}
			switch want {
			case "valid-crypto":
				if rep.Indication == verify.TotalFailed || len(rep.Signatures) == 0 {
					t.Errorf("want crypto-valid (%s), got %s", why, rep.Indication)
				}
				for _, s := range rep.Signatures {
					if s.Checks.SignatureValue != verify.Passed {
						t.Errorf("%s: signatureValue %s, want passed", s.ID, s.Checks.SignatureValue)
					}
				}
			case "invalid":
				named := rep.Indication == verify.TotalFailed
				for _, s := range rep.Signatures {
					c := s.Checks
					for _, v := range []verify.Check{c.Structure, c.Digests, c.SignatureValue, c.SigningCertificate} {
						named = named || v == verify.Failed
					}
					named = named || s.Modified
				}
				if rep.Indication == verify.TotalPassed || !named {
					t.Errorf("want the defect named (%s), got %s", why, rep.Indication)
				}
			case "indeterminate":
				if rep.Indication != verify.Indeterminate {
					t.Errorf("want INDETERMINATE (%s), got %s", why, rep.Indication)
				}
			}
		})
	}
	if rows == 0 {
		t.Fatal("no PDF rows in expectations.tsv")
	}
}

// PDF validates every signature of a PDF; the report says who signed, when, what bytes and revision each
// signature covers, and what was changed afterwards.
func ExamplePDF() {
	p := testpki.New()
	in := pdftest.Build(pdftest.Simple(1, "Umowa"), 1, pdftest.Options{})
	var signed bytes.Buffer
	if _, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &signed, pades.SignOptions{
		Signer: p.RSA.Key, Certificate: p.RSA.Cert, Chain: p.RSA.Chain,
	}); err != nil {
		fmt.Println(err)
		return
	}
	b := signed.Bytes()
	rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), &verify.Policy{Roots: []*x509.Certificate{p.Root}})
	s := rep.Signatures[0]
	fmt.Println(rep.Format, rep.Indication, s.Level, s.Checks.Chain)
	// Output: pades TOTAL_PASSED PAdES-B-B passed
}
