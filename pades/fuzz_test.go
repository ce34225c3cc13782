package pades_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/verify"
)

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the FuzzVerifyPDF seed corpus in testdata/fuzz/FuzzVerifyPDF")
	}
}

func updateSeeds() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

var fuzzSeedDir = filepath.Join("testdata", "fuzz", "FuzzVerifyPDF")

// FuzzVerifyPDF runs the whole PDF verification (verify.PDF, and so pades.Verify, the pdf reader with its
// decryption, the change analysis and the CMS checks) on arbitrary bytes. It must never panic or hang, a failure
// must be one of the documented error classes, and the report must encode. Seeds (signed, certified, encrypted and
// signed encrypted files) are in testdata/fuzz/FuzzVerifyPDF (go test -run TestFuzzVerifyPDFSeeds -update
// rewrites them).
func FuzzVerifyPDF(f *testing.F) {
	lim := &pdf.Limits{MaxDecoded: 1 << 20, MaxObjectLoads: 20000}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Limits: lim})
		if err != nil {
			if !errors.Is(err, pades.ErrNoPDF) && !errors.Is(err, pades.ErrEncrypted) {
				t.Fatalf("error of no documented class: %v", err)
			}
		} else {
			for _, s := range res.Signatures {
				if s.CoveredRevision < 0 || s.CoveredRevision > len(res.Revisions) {
					t.Fatalf("covered revision %d of %d", s.CoveredRevision, len(res.Revisions))
				}
				if s.CMSResult != nil && s.CMS == nil {
					t.Fatal("CMS result without a CMS")
				}
			}
		}
		if len(b) > 256<<10 {
			return // the report path below reads with the default limits
		}
		rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), &verify.Policy{})
		if _, err := json.Marshal(rep); err != nil {
			t.Fatalf("report does not encode: %v", err)
		}
		if rep.Indication == verify.TotalPassed {
			t.Fatal("TOTAL_PASSED with no trusted root")
		}
	})
}

// TestFuzzVerifyPDFSeeds checks the seed corpus of FuzzVerifyPDF, and with -update writes it.
func TestFuzzVerifyPDFSeeds(t *testing.T) {
	if updateSeeds() {
		writeFuzzSeeds(t)
	}
	entries, err := os.ReadDir(fuzzSeedDir)
	if err != nil || len(entries) < 8 {
		t.Fatalf("%s: %d seeds, %v (go test -run TestFuzzVerifyPDFSeeds -update)", fuzzSeedDir, len(entries), err)
	}
}

func writeFuzzSeeds(t *testing.T) {
	p := testpki.New()
	seeds := map[string][]byte{
		"signed":                  sign(t, simplePDF(1, ""), opts(p.EC256)),
		"signed-xref-stream":      sign(t, simplePDF(2, "xref-stream"), opts(p.EC256)),
		"certified-then-approval": sign(t, sign(t, simplePDF(1, ""), func() pades.SignOptions { o := opts(p.EC256); o.DocMDP = 2; return o }()), opts(p.EC256)),
	}
	for _, name := range []string{"rc4-40", "rc4-128-v4", "aes-128-objstm", "aes-256", "user-aes-256"} {
		seeds["encrypted-"+name] = encryptedFixture(t, name+".pdf")
	}
	for _, name := range []string{"rc4-128", "aes-128", "aes-256-r5"} {
		seeds["signed-encrypted-"+name] = signEncrypted(t, encryptedFixture(t, name+".pdf"), p.EC256)
	}
	seeds["signed-encrypted-then-changed"] = rewriteContent(t, seeds["signed-encrypted-aes-128"], []byte("BT (changed) Tj ET"))
	seeds["b-lta"] = ltaSeed(t)
	if err := os.MkdirAll(fuzzSeedDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
		if err := os.WriteFile(filepath.Join(fuzzSeedDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ltaSeed is a B-LTA file (signature, document time-stamp, DSS, archive time-stamp) with small reserves.
func ltaSeed(t *testing.T) []byte {
	p := testpki.New()
	o := extendOpts(t, "b-lta", &testSource{p: p})
	o.TimeStampReserve = 3 << 10
	return extend(t, sign(t, simplePDF(1, ""), opts(p.EC256)), o)
}

// TestWriteLTASeed writes only the b-lta seed (WRITE_LTA_SEED=1), adding it without rewriting the others.
func TestWriteLTASeed(t *testing.T) {
	if os.Getenv("WRITE_LTA_SEED") == "" {
		t.Skip("WRITE_LTA_SEED not set")
	}
	body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(ltaSeed(t))))
	if err := os.WriteFile(filepath.Join(fuzzSeedDir, "b-lta"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
