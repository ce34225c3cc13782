package pades_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

// policyFromDir trusts dir/root.pem, with dir/intermediate.pem (the interop toolkit's names) as intermediates.
func policyFromDir(t *testing.T, dir string) *verify.Policy {
	t.Helper()
	load := func(name string) []*x509.Certificate {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var out []*x509.Certificate
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				return out
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
	}
	return &verify.Policy{Roots: load("root.pem"), Intermediates: load("intermediate.pem")}
}

// pkiDir writes the shared test PKI once per test binary.
func pkiDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := testpki.New().WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestInteropOursToPeers: our signatures pass poppler's pdfsig and PDFBox (valid and trusted), and qpdf --check.
func TestInteropOursToPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	p := testpki.New()
	dir := pkiDir(t)
	root, inter := filepath.Join(dir, "root.pem"), filepath.Join(dir, "inter.pem")
	profileSig := func(b []byte) []byte {
		o := opts(p.RSA)
		o.Profile = testProfile
		return sign(t, b, o)
	}
	tests := []struct {
		name string
		file func() []byte
	}{
		{"visible trusted-profile stamp", func() []byte { return profileSig(simplePDF(3, "")) }},
		{"invisible EC P-256", func() []byte { return sign(t, simplePDF(1, ""), opts(p.EC256)) }},
		{"xref stream input", func() []byte { return profileSig(simplePDF(2, "xref-stream")) }},
		{"two signatures", func() []byte { return sign(t, profileSig(simplePDF(2, "")), opts(p.EC384)) }},
		{"certification P=2 then approval", func() []byte {
			o := opts(p.RSA)
			o.DocMDP = 2
			return sign(t, sign(t, simplePDF(1, ""), o), opts(p.EC256))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := writeTemp(t, t.TempDir(), "signed.pdf", tc.file())
			for _, tool := range []string{"pdfsig", "pdfbox", "qpdf"} {
				if ok, out := interoptest.Verify(t, tool, f, root, inter); !ok {
					t.Errorf("%s rejects our signature:\n%s", tool, out)
				}
			}
		})
	}
}

// TestInteropStampVisible renders the signed page with pdftoppm and checks that the stamp's box differs from the
// unsigned page there.
func TestInteropStampVisible(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		if os.Getenv(interoptest.RequireEnv) == "1" {
			t.Fatal("pdftoppm missing")
		}
		t.Skip("pdftoppm (poppler-utils) not installed")
	}
	p := testpki.New()
	dir := t.TempDir()
	in := simplePDF(2, "")
	o := opts(p.RSA)
	o.Profile = testProfile
	var out bytes.Buffer
	res, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, o)
	if err != nil {
		t.Fatal(err)
	}
	render := func(name string, b []byte) []byte {
		f := writeTemp(t, dir, name+".pdf", b)
		cmd := exec.Command("pdftoppm", "-r", "72", "-gray", "-f", "2", "-l", "2", f, filepath.Join(dir, name))
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, o)
		}
		m, _ := filepath.Glob(filepath.Join(dir, name+"*.pgm"))
		if len(m) != 1 {
			t.Fatalf("pdftoppm output %v", m)
		}
		img, err := os.ReadFile(m[0])
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	a, b := render("unsigned", in), render("signed", out.Bytes())
	wa, ha, pa := pgm(t, a)
	wb, hb, pb := pgm(t, b)
	if wa != wb || ha != hb {
		t.Fatalf("page sizes differ: %dx%d vs %dx%d", wa, ha, wb, hb)
	}
	// At 72 dpi one pixel is one point; y grows downwards in the image.
	x0, x1 := int(res.Rect[0]), int(res.Rect[2])
	y0, y1 := ha-int(res.Rect[3]), ha-int(res.Rect[1])
	differ, dark := 0, 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if pa[y*wa+x] != pb[y*wb+x] {
				differ++
			}
			if pb[y*wb+x] < 128 {
				dark++
			}
		}
	}
	area := (x1 - x0) * (y1 - y0)
	if differ < area/2 || dark < 200 {
		t.Errorf("stamp not visible: %d of %d pixels differ, %d dark (text and border)", differ, area, dark)
	}
	// Outside the box nothing changed.
	outside := 0
	for y := 0; y < ha; y++ {
		for x := 0; x < wa; x++ {
			if (x < x0-2 || x > x1+2 || y < y0-2 || y > y1+2) && pa[y*wa+x] != pb[y*wb+x] {
				outside++
			}
		}
	}
	if outside > 0 {
		t.Errorf("%d pixels changed outside the stamp", outside)
	}
	// The text is real text with Polish letters (embedded subset font with a ToUnicode map).
	if _, err := exec.LookPath("pdftotext"); err == nil {
		txt, err := exec.Command("pdftotext", "-f", "2", "-l", "2", filepath.Join(dir, "signed.pdf"), "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"PODPIS ZAUFANY", "ANNA TESTOWA-ŻÓŁĆ", "Dokument podpisany elektronicznie podpisem zaufanym"} {
			if !bytes.Contains(txt, []byte(want)) {
				t.Errorf("stamp text lacks %q:\n%s", want, txt)
			}
		}
	}
}

// pgm decodes a binary PGM (P5, 8 bits).
func pgm(t *testing.T, b []byte) (w, h int, pix []byte) {
	t.Helper()
	var maxv int
	var n int
	fields := [][]byte{}
	i := 0
	for len(fields) < 4 && i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
			i++
		}
		j := i
		for j < len(b) && !(b[j] == ' ' || b[j] == '\n' || b[j] == '\r' || b[j] == '\t') {
			j++
		}
		fields = append(fields, b[i:j])
		i = j
	}
	if len(fields) < 4 || string(fields[0]) != "P5" {
		t.Fatalf("not a P5 PGM")
	}
	w, h, maxv = atoi(fields[1]), atoi(fields[2]), atoi(fields[3])
	n = w * h
	pix = b[i+1:]
	if maxv != 255 || len(pix) < n {
		t.Fatalf("PGM %dx%d max %d, %d bytes", w, h, maxv, len(pix))
	}
	return w, h, pix[:n]
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestInteropPeersToOurs: files signed by PDFBox verify with ours (TOTAL_PASSED with the PKI's root); a byte
// flipped in the signed content, or content appended after signing, is caught.
func TestInteropPeersToOurs(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	dir := t.TempDir()
	// The toolkit's own PKI, with a PKCS#12 for PDFBox.
	if ok, out := interoptest.Run(t, "testpki", dir); !ok {
		t.Fatalf("testpki: %s", out)
	}
	in := writeTemp(t, dir, "in.pdf", simplePDF(2, ""))
	for _, visible := range []bool{false, true} {
		name := map[bool]string{false: "invisible", true: "visible"}[visible]
		t.Run(name, func(t *testing.T) {
			outPath := filepath.Join(dir, "pdfbox-"+name+".pdf")
			args := []string{"pdfbox-sign", in, outPath, "--key", filepath.Join(dir, "signer-rsa.p12"), "--pass", "test", "--reason", "zażółć gęślą jaźń"}
			if visible {
				args = append(args, "--visible")
			}
			if ok, out := interoptest.Run(t, args...); !ok {
				t.Fatalf("pdfbox-sign: %s", out)
			}
			signed, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			pol := policyFromDir(t, dir)
			check := func(name string, b []byte) verify.FileReport {
				rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), pol)
				t.Logf("%s: %s", name, rep.Indication)
				for _, s := range rep.Signatures {
					t.Logf("  %s %s/%s %+v %q", s.ID, s.Indication, s.SubIndication, s.Checks, s.Reasons)
				}
				return rep
			}
			if rep := check("pdfbox", signed); rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 || rep.Signatures[0].Level != "PAdES-B-B" {
				t.Fatalf("PDFBox signature: %s", rep.Indication)
			}
			if rep := check("byte flipped", flip(t, signed, "Wniosek")); rep.Indication != verify.TotalFailed {
				t.Errorf("flipped byte: %s", rep.Indication)
			}
			appended := update(t, signed, map[int]pdftest.Object{5: streamObj("BT /F1 40 Tf 72 500 Td (ZMIENIONO: 1000 PLN) Tj ET")})
			rep := check("content appended", appended)
			if rep.Indication != verify.TotalFailed || !rep.Signatures[0].Modified {
				t.Errorf("appended content: %s, modified %v", rep.Indication, rep.Signatures[0].Modified)
			}
		})
	}
}
