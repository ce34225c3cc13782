package pades_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
)

// TestChangesPeerUpdates: a later revision written by an independent implementation (PDFBox's incremental
// signing, which also rewrites the form, the page's /Annots and adds its own appearance objects) is judged a
// legitimate signature change for our earlier approval or DocMDP P=2 certification signature.
func TestChangesPeerUpdates(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	dir := t.TempDir()
	if ok, out := interoptest.Run(t, "testpki", dir); !ok {
		t.Fatalf("testpki: %s", out)
	}
	p := testpki.New()
	for _, tc := range []struct {
		name    string
		docMDP  int
		visible bool
	}{
		{"approval, PDFBox invisible", 0, false},
		{"approval, PDFBox visible", 0, true},
		{"DocMDP P=2, PDFBox invisible", 2, false},
		{"DocMDP P=2, PDFBox visible", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(p.RSA)
			o.DocMDP = tc.docMDP
			in := writeTemp(t, dir, "in.pdf", sign(t, changeForm(nil), o))
			outPath := filepath.Join(dir, "out.pdf")
			args := []string{"pdfbox-sign", in, outPath, "--key", filepath.Join(dir, "signer-ec.p12"), "--pass", "test"}
			if tc.visible {
				args = append(args, "--visible")
			}
			if ok, out := interoptest.Run(t, args...); !ok {
				t.Fatalf("pdfbox-sign: %s", out)
			}
			b, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			res := verifyBytes(t, b)
			if len(res.Signatures) != 2 {
				t.Fatalf("%d signatures", len(res.Signatures))
			}
			s := res.Signatures[0]
			for _, ch := range s.Changes {
				t.Logf("%+v", ch)
			}
			if why := intact(s); why != "" || s.Modified {
				t.Errorf("our signature after PDFBox's: %s, modified %v", why, s.Modified)
			}
			found := false
			for _, ch := range s.Changes {
				found = found || (ch.Kind == pades.ChangeSignature && ch.Allowed)
			}
			if !found {
				t.Error("PDFBox's signature not reported as an allowed signature change")
			}
			oneVerdictPerObject(t, s.Changes)
		})
	}
}
