package pades_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

func corpusFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpus", "pdf", name))
	if err != nil {
		t.Skipf("corpus file %s not available: %v", name, err)
	}
	return b
}

// TestSignInputShapes signs every input shape the issue lists and checks the result with our verifier: the original
// bytes are untouched, the update's cross-reference section has the previous one's kind, and the new signature
// covers the whole file.
func TestSignInputShapes(t *testing.T) {
	p := testpki.New()
	tests := []struct {
		name  string
		in    func(t testing.TB) []byte
		prior int // signatures already in the file
	}{
		{"classic table", func(testing.TB) []byte { return simplePDF(2, "") }, 0},
		{"xref stream with object stream", func(testing.TB) []byte { return simplePDF(2, "xref-stream") }, 0},
		{"hybrid", func(testing.TB) []byte { return simplePDF(1, "hybrid") }, 0},
		{"no final end-of-line", func(testing.TB) []byte { return bytes.TrimRight(simplePDF(1, ""), "\r\n") }, 0},
		{"incremental update", func(t testing.TB) []byte {
			return update(t, simplePDF(1, ""), map[int]pdftest.Object{5: pdftest.StreamObj("<< >>", []byte("BT /F1 12 Tf 72 700 Td (v2) Tj ET"))})
		}, 0},
		{"linearized, signed once (DSS-2025)", func(t testing.TB) []byte { return corpusFile(t, "dss-DSS-2025.pdf") }, 1},
		{"object streams, signed three times (pdfsign)", func(t testing.TB) []byte { return corpusFile(t, "pdfsign-testfile50.pdf") }, 3},
		{"signed twice (pyHanko)", func(t testing.TB) []byte { return corpusFile(t, "pyhanko-minimal-signed-twice-no-sig-type.pdf") }, 2},
	}
	for _, tc := range tests {
		for _, visible := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: " invisible", true: " visible"}[visible], func(t *testing.T) {
				in := tc.in(t)
				o := opts(p.RSA)
				o.Visible = &visible
				out := sign(t, in, o)
				if !bytes.Equal(out[:len(in)], in) {
					t.Fatal("original bytes changed")
				}
				rIn, _ := pdf.Open(bytes.NewReader(in), int64(len(in)), nil)
				rOut, err := pdf.Open(bytes.NewReader(out), int64(len(out)), nil)
				if err != nil {
					t.Fatal(err)
				}
				_, kIn := rIn.LastXref()
				_, kOut := rOut.LastXref()
				if kIn != kOut {
					t.Errorf("update written with a %v section after a %v one", kOut, kIn)
				}
				res := verifyBytes(t, out)
				if len(res.Signatures) != tc.prior+1 {
					t.Fatalf("%d signatures, want %d", len(res.Signatures), tc.prior+1)
				}
				s := res.Signatures[len(res.Signatures)-1]
				if why := intact(s); why != "" || !s.CoversWholeFile || s.Modified {
					t.Fatalf("new signature: %s, whole file %v, modified %v", why, s.CoversWholeFile, s.Modified)
				}
				if s.SubFilter != "ETSI.CAdES.detached" || s.Filter != "Adobe.PPKLite" || s.Type != "Sig" {
					t.Errorf("dictionary %s %s %s", s.Type, s.Filter, s.SubFilter)
				}
				if s.CMSResult.Level != "PAdES baseline" || s.CMS.SignerInfo.SigningTime != nil {
					t.Errorf("CMS level %s, signing-time %v", s.CMSResult.Level, s.CMS.SignerInfo.SigningTime)
				}
				if s.M == nil || !s.M.Equal(signTime) {
					t.Errorf("/M %v, want %v", s.M, signTime)
				}
				// Earlier signatures keep verifying; what we added counts as a signature.
				for _, prev := range res.Signatures[:len(res.Signatures)-1] {
					if prev.CMSResult == nil || !prev.CMSResult.SignatureOK {
						t.Errorf("earlier signature %s broken", prev.FieldName)
					}
					for _, c := range prev.Changes {
						if c.Revision == s.CoveredRevision && (c.Kind != pades.ChangeSignature || !c.Allowed) {
							t.Errorf("our update seen by %s as %s (allowed %v): %s", prev.FieldName, c.Kind, c.Allowed, c.Detail)
						}
					}
				}
			})
		}
	}
}

func TestSignProfile(t *testing.T) {
	p := testpki.New()
	o := opts(p.RSA)
	o.Profile = testProfile
	o.Location = "Warszawa"
	o.ContactInfo = "kontakt@example.invalid"
	out := sign(t, simplePDF(3, ""), o)
	res := wantValid(t, out, 1)
	s := res.Signatures[0]
	const reason = "Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w imieniu: ANNA TESTOWA-ŻÓŁĆ, PESEL: 44051401359, PZ ID: atestowa"
	if s.Reason != reason {
		t.Errorf("/Reason %q", s.Reason)
	}
	if s.Name != "ANNA TESTOWA-ŻÓŁĆ" || s.Location != "Warszawa" || s.ContactInfo != "kontakt@example.invalid" {
		t.Errorf("/Name %q /Location %q /ContactInfo %q", s.Name, s.Location, s.ContactInfo)
	}
	// the real service's form carries no profile number
	if want := (pades.Profile{FirstName: "ANNA", Surname: "TESTOWA-ŻÓŁĆ", PESEL: "44051401359", Login: "atestowa"}); s.Profile == nil || *s.Profile != want {
		t.Errorf("profile %+v", s.Profile)
	}
	// The /Reason is a UTF-16BE text string with a byte order mark.
	if !bytes.Contains(out, []byte("/Reason <FEFF004F")) {
		t.Error("/Reason is not written as UTF-16BE with BOM")
	}
	// A profile signature is visible by default, on the last page.
	sig, widget := sigObjects(t, out)
	_ = sig
	if w := object(t, out, widget); strings.Contains(w, "/Rect [0 0 0 0]") || !strings.Contains(w, "/P 8 0 R") {
		t.Errorf("widget %s: want a visible stamp on page 3 (object 8)", w)
	}
}

func TestParseReason(t *testing.T) {
	withSecond := *testProfile
	withSecond.SecondName = "MARIA"
	for _, p := range []*pades.Profile{testProfile, &withSecond} {
		if got := pades.ParseReason(p.Reason()); got == nil || *got != *p {
			t.Errorf("round trip %q: %+v", p.Reason(), got)
		}
	}
	for _, bad := range []string{"", "Signed by X", "Podpis zaufany; imię: A", strings.Replace(testProfile.Reason(), "login", "email", 1),
		testProfile.Reason() + "; PESEL: 1", strings.Replace(testProfile.Reason(), "imię: ANNA", "imię:  ANNA", 1)} {
		if got := pades.ParseReason(bad); got != nil {
			t.Errorf("ParseReason(%q) = %+v", bad, got)
		}
	}
}

func TestSignAlgorithms(t *testing.T) {
	p := testpki.New()
	for _, tc := range []struct {
		name string
		id   testpki.Identity
		hash crypto.Hash
		alg  string
	}{
		{"RSA SHA-256", p.RSA, crypto.SHA256, "RSA-SHA256"},
		{"RSA SHA-512", p.RSA, crypto.SHA512, "RSA-SHA512"},
		{"EC P-256", p.EC256, crypto.SHA256, "ECDSA-SHA256"},
		{"EC P-384 SHA-384", p.EC384, crypto.SHA384, "ECDSA-SHA384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(tc.id)
			o.Hash = tc.hash
			res := wantValid(t, sign(t, simplePDF(1, ""), o), 1)
			if got := res.Signatures[0].CMSResult.Algorithm; got != tc.alg {
				t.Errorf("algorithm %s, want %s", got, tc.alg)
			}
		})
	}
}

// TestSignSequence: several signatures, each a new incremental update; the AcroForm gets every field.
func TestSignSequence(t *testing.T) {
	p := testpki.New()
	b := simplePDF(2, "xref-stream")
	ids := []testpki.Identity{p.RSA, p.EC256, p.EC384}
	for i, id := range ids {
		o := opts(id)
		v := i == 1
		o.Visible = &v
		b = sign(t, b, o)
	}
	res := wantValid(t, b, 3)
	names := []string{}
	for i, s := range res.Signatures {
		names = append(names, s.FieldName)
		if s.CoveredRevision != i+2 {
			t.Errorf("%s covers revision %d", s.FieldName, s.CoveredRevision)
		}
		for _, c := range s.Changes {
			if c.Kind != pades.ChangeSignature || !c.Allowed {
				t.Errorf("%s: change %+v", s.FieldName, c)
			}
		}
	}
	if strings.Join(names, ",") != "Signature1,Signature2,Signature3" {
		t.Errorf("field names %v", names)
	}
	r, _ := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
	cat, _, _ := r.Latest().Catalog()
	af, _ := r.Latest().Dict(cat["AcroForm"])
	if n, _ := af.Int("SigFlags"); n != 3 {
		t.Errorf("SigFlags %d", n)
	}
	if fields, _ := af["Fields"].(pdf.Array); len(fields) != 3 {
		t.Errorf("fields %v", fields)
	}
}

func TestSignOptionsErrors(t *testing.T) {
	p := testpki.New()
	in := simplePDF(2, "")
	o := opts(p.RSA)
	encrypted := func() []byte {
		objs := pdftest.Simple(1, "secret")
		objs[9] = pdftest.Dict("<< /Filter /Standard /V 2 /R 3 /Length 128 /P -4 /O <00> /U <00> >>")
		return pdftest.Build(objs, 1, pdftest.Options{Trailer: "/Encrypt 9 0 R /ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>]"})
	}
	tests := []struct {
		name string
		in   []byte
		mod  func(*pades.SignOptions)
		want error
	}{
		{"encrypted", encrypted(), nil, pades.ErrEncrypted},
		{"no signer", in, func(o *pades.SignOptions) { o.Signer = nil }, pades.ErrInvalidOptions},
		{"no certificate", in, func(o *pades.SignOptions) { o.Certificate = nil }, pades.ErrInvalidOptions},
		{"MD5", in, func(o *pades.SignOptions) { o.Hash = crypto.MD5 }, pades.ErrInvalidOptions},
		{"key of another certificate", in, func(o *pades.SignOptions) { o.Signer = p.EC256.Key }, pades.ErrInvalidOptions},
		{"certificate for key encipherment only", in, func(o *pades.SignOptions) {
			tmpl := testpki.LeafTemplate(testpki.Subject)
			tmpl.KeyUsage = x509.KeyUsageKeyEncipherment
			c, err := p.Issue(tmpl, p.RSA.Key)
			if err != nil {
				t.Fatal(err)
			}
			o.Certificate = c
		}, pades.ErrInvalidOptions},
		{"DocMDP 4", in, func(o *pades.SignOptions) { o.DocMDP = 4 }, pades.ErrInvalidOptions},
		{"page 3 of 2", in, func(o *pades.SignOptions) { o.Page = 3 }, pades.ErrNoSuchPage},
		{"negative page", in, func(o *pades.SignOptions) { o.Page = -1 }, pades.ErrNoSuchPage},
		{"empty rectangle", in, func(o *pades.SignOptions) { v := true; o.Visible = &v; o.Rect = &[4]float64{10, 10, 0, 50} }, pades.ErrInvalidOptions},
		{"not a PDF", []byte("hello"), nil, pdf.ErrNotPDF},
		{"broken xref", []byte("%PDF-1.7\n1 0 obj <<>> endobj\nstartxref\n9\n%%EOF\n"), nil, pdf.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := o
			if tc.mod != nil {
				tc.mod(&o)
			}
			var out bytes.Buffer
			_, err := pades.Sign(context.Background(), bytes.NewReader(tc.in), int64(len(tc.in)), &out, o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if out.Len() != 0 {
				t.Error("output written despite the error")
			}
		})
	}
	t.Run("field exists", func(t *testing.T) {
		o := opts(p.RSA)
		o.FieldName = "Podpis"
		b := sign(t, in, o)
		var out bytes.Buffer
		if _, err := pades.Sign(context.Background(), bytes.NewReader(b), int64(len(b)), &out, o); !errors.Is(err, pades.ErrFieldExists) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out bytes.Buffer
		if _, err := pades.Sign(ctx, bytes.NewReader(in), int64(len(in)), &out, o); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v", err)
		}
	})
}

func TestSignFile(t *testing.T) {
	p := testpki.New()
	dir := t.TempDir()
	in := writeTemp(t, dir, "in.pdf", simplePDF(1, ""))
	// Signing in place works: the output goes to a temporary file first.
	res, err := pades.SignFile(context.Background(), in, in, opts(p.RSA))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(in)
	if int64(len(b)) != res.Size {
		t.Fatalf("size %d, result %d", len(b), res.Size)
	}
	wantValid(t, b, 1)
	if _, err := pades.SignFile(context.Background(), filepath.Join(dir, "missing.pdf"), filepath.Join(dir, "out.pdf"), opts(p.RSA)); err == nil {
		t.Error("missing input accepted")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestStampPlacement: the stamp goes where asked, upright on rotated pages.
func TestStampPlacement(t *testing.T) {
	p := testpki.New()
	rotated := func(rot int) []byte {
		objs := pdftest.Simple(1, "rotated")
		objs[4] = pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate " + itoa(rot) + " /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>")
		return pdftest.Build(objs, 1, pdftest.Options{})
	}
	tests := []struct {
		name   string
		in     []byte
		rect   *[4]float64
		want   [4]float64
		matrix string
	}{
		{"default, bottom right", simplePDF(1, ""), nil, [4]float64{309, 36, 559, 114}, ""},
		{"caller's rectangle", simplePDF(1, ""), &[4]float64{50, 100, 200, 60}, [4]float64{50, 100, 250, 160}, ""},
		{"rotated 90", rotated(90), &[4]float64{50, 100, 200, 60}, [4]float64{435, 50, 495, 250}, "/Matrix [0 1 -1 0 0 0]"},
		{"rotated 180", rotated(180), &[4]float64{50, 100, 200, 60}, [4]float64{345, 682, 545, 742}, "/Matrix [-1 0 0 -1 0 0]"},
		{"rotated 270", rotated(270), &[4]float64{50, 100, 200, 60}, [4]float64{100, 592, 160, 792}, "/Matrix [0 -1 1 0 0 0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(p.RSA)
			v := true
			o.Visible = &v
			o.Rect = tc.rect
			var out bytes.Buffer
			res, err := pades.Sign(context.Background(), bytes.NewReader(tc.in), int64(len(tc.in)), &out, o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rect != tc.want {
				t.Errorf("rect %v, want %v", res.Rect, tc.want)
			}
			if tc.matrix != "" && !bytes.Contains(out.Bytes(), []byte(tc.matrix)) {
				t.Errorf("appearance lacks %s", tc.matrix)
			}
			wantValid(t, out.Bytes(), 1)
		})
	}
}

func itoa(n int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + string(pdf.AppendObject(nil, pdf.Integer(n))))
}
