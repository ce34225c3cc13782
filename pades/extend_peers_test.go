package pades_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/digitorus/pdfsign"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
)

// TestExtendPeersFiles extends files signed by others (the shared corpus: EU DSS, pyHanko, pdfsign, a synthetic
// trusted-profile seal; and digitorus/pdfsign B-B and B-T made here) to B-LTA: every signature stays intact and
// unmodified, and the document time-stamps verify. Files whose signatures do not verify are refused.
func TestExtendPeersFiles(t *testing.T) {
	p := testpki.New()
	files := map[string][]byte{}
	pdfsigned := func(build func(*pdfsign.Document)) []byte {
		in := simplePDF(1, "")
		doc, err := pdfsign.Open(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			t.Fatal(err)
		}
		build(doc)
		var out bytes.Buffer
		if _, err := doc.Write(&out); err != nil {
			t.Fatalf("pdfsign: %v", err)
		}
		return out.Bytes()
	}
	files["pdfsign B-B"] = pdfsigned(func(d *pdfsign.Document) { d.Sign(p.RSA.Key, p.RSA.Cert, p.Intermediate).Format(pdfsign.PAdES_B) })
	url := tsaServer(t)
	files["pdfsign B-T"] = pdfsigned(func(d *pdfsign.Document) {
		d.Sign(p.RSA.Key, p.RSA.Cert, p.Intermediate).Format(pdfsign.PAdES_B_T).Timestamp(url)
	})
	files["pdfsign B-T and document time-stamp"] = func() []byte {
		bt := files["pdfsign B-T"]
		doc, err := pdfsign.Open(bytes.NewReader(bt), int64(len(bt)))
		if err != nil {
			t.Fatal(err)
		}
		tsa := testTSA(t)
		doc.Sign(tsa.Key, tsa.Cert, p.Intermediate).Type(pdfsign.DocumentTimestamp).Timestamp(url)
		var out bytes.Buffer
		if _, err := doc.Write(&out); err != nil {
			t.Fatalf("pdfsign: %v", err)
		}
		return out.Bytes()
	}()
	refused := map[string]bool{
		"dss-pades-spoofing-replaced-reason.pdf": true, "dss-pdf-byterange-overlap.pdf": true, "dss-pdf-signed-added-page.pdf": true,
		"dss-pdf-signed-corrupted.pdf": true, "pyhanko-form-update-override-appearance-stream-sneaky.pdf": true,
		"pyhanko-signature-gap-too-big.pdf": true,
	}
	if dir := interoptest.CorpusDir(t); dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "pdf", "*.pdf"))
		for _, f := range paths {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			files[filepath.Base(f)] = b
		}
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := pades.Extend(context.Background(), bytes.NewReader(b), int64(len(b)), &out, extendOpts(t, "b-lta", &testSource{p: p}))
			if refused[name] {
				if !errors.Is(err, pades.ErrNotIntact) && !errors.Is(err, pades.ErrNoPDF) {
					t.Fatalf("Extend = %v, want ErrNotIntact", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extend: %v", err)
			}
			before := verifyBytes(t, b)
			res := verifyBytes(t, out.Bytes())
			n := len(before.Signatures)
			if len(res.Signatures) < n+1 {
				t.Fatalf("%d signatures after, %d before", len(res.Signatures), n)
			}
			for _, s := range res.Signatures {
				if s.Modified || len(s.Problems) > 0 {
					t.Errorf("%s: modified %v, problems %q, changes %+v", s.FieldName, s.Modified, s.Problems, s.Changes)
				}
				if s.SubFilter != "ETSI.RFC3161" && (s.CMSErr != nil || len(s.CMSResult.Problems()) > 0) {
					t.Errorf("%s: %v %q", s.FieldName, s.CMSErr, s.CMSResult.Problems())
				}
			}
			wantDocTimeStampsValid(t, res, len(docTimeStamps(res)))
			if res.DSS == nil || len(res.DSS.VRI) < n {
				t.Fatalf("DSS %+v", res.DSS)
			}
		})
	}
}
