package pades_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/verify"
)

// Encrypted documents (standard security handler, empty user password): the fixtures are qpdf's encryptions of
// one document (../pdf/testdata/crypt, made by its make.sh). We sign them the way other signers do, as an
// incremental update whose strings are encrypted except the signature's /Contents.

var encryptedFixtures = []string{"rc4-40", "rc4-128", "rc4-128-v4", "aes-128", "aes-128-objstm", "aes-256-r5", "aes-256", "aes-256-objstm"}

func encryptedFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "pdf", "testdata", "crypt", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openPDF(t testing.TB, b []byte) *pdf.Reader {
	t.Helper()
	r, err := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// signEncrypted adds an approval signature of id to the encrypted document b (field "Podpis" on page 1).
func signEncrypted(t testing.TB, b []byte, id testpki.Identity) []byte {
	t.Helper()
	r := openPDF(t, b)
	v := r.Latest()
	cat, catRef, err := v.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := v.Pages()
	if err != nil || len(pages) == 0 {
		t.Fatalf("pages: %v", err)
	}
	page := pages[0]
	u := pdf.NewUpdate(r)
	sig := u.Add(pdf.Dict{"Type": pdf.Name("Sig"), "Filter": pdf.Name("Adobe.PPKLite"), "SubFilter": pdf.Name("ETSI.CAdES.detached"),
		"ByteRange": pdf.Raw(brPlaceholder), "Contents": pdf.Raw("<" + strings.Repeat("0", contentsHexLen) + ">"),
		"M": pdf.String{Value: []byte(pdf.FormatDate(signTime))}, "Name": pdf.TextString("ANNA TESTOWA"),
		"Reason": pdf.TextString("Zatwierdzam – zażółć")})
	widget := u.Add(pdf.Dict{"Type": pdf.Name("Annot"), "Subtype": pdf.Name("Widget"), "FT": pdf.Name("Sig"),
		"T": pdf.TextString("Podpis"), "V": sig, "Rect": pdf.Array{pdf.Integer(0), pdf.Integer(0), pdf.Integer(0), pdf.Integer(0)},
		"F": pdf.Integer(132), "P": page.Ref})
	af, _ := v.Dict(cat["AcroForm"])
	af = af.Clone()
	fo, _ := v.Resolve(af["Fields"])
	fields, _ := fo.(pdf.Array)
	af["Fields"] = append(append(pdf.Array{}, fields...), widget)
	af["SigFlags"] = pdf.Integer(3)
	nc := cat.Clone()
	nc["AcroForm"] = af
	u.Set(catRef, nc)
	pd := page.Dict.Clone()
	ao, _ := v.Resolve(pd["Annots"])
	annots, _ := ao.(pdf.Array)
	pd["Annots"] = append(append(pdf.Array{}, annots...), widget)
	u.Set(page.Ref, pd)
	w, err := u.Bytes(int64(len(b)), r.Trailer(), b[len(b)-1] != '\n')
	if err != nil {
		t.Fatal(err)
	}
	out := append(bytes.Clone(b), w.Bytes...)
	s, _ := contentsSpan(t, out)
	return seal(t, out, standardRange(t, out), s, id)
}

// rewriteContent appends an encrypted incremental update replacing page 1's content stream with data (nil: the
// same data, re-encrypted, which under AES gives different bytes).
func rewriteContent(t testing.TB, b []byte, data []byte) []byte {
	t.Helper()
	r := openPDF(t, b)
	v := r.Latest()
	pages, err := v.Pages()
	if err != nil {
		t.Fatal(err)
	}
	ref, ok := pages[0].Dict["Contents"].(pdf.Ref)
	if !ok {
		t.Fatal("page content is not a reference")
	}
	o, _ := v.Get(ref)
	st := o.(*pdf.Stream)
	d := st.Dict.Clone()
	if data == nil {
		if data, err = r.RawStream(st, 0); err != nil {
			t.Fatal(err)
		}
	} else {
		delete(d, "Filter")
		delete(d, "DecodeParms")
	}
	u := pdf.NewUpdate(r)
	u.Set(ref, &pdf.Stream{Dict: d, Raw: data})
	w, err := u.Bytes(int64(len(b)), r.Trailer(), b[len(b)-1] != '\n')
	if err != nil {
		t.Fatal(err)
	}
	return append(bytes.Clone(b), w.Bytes...)
}

// TestVerifyEncrypted: a signature on an encrypted document is verified, its dictionary's strings read
// decrypted, and the analysis of later encrypted revisions compares decrypted content.
func TestVerifyEncrypted(t *testing.T) {
	id := testpki.New().RSA
	for _, name := range encryptedFixtures {
		t.Run(name, func(t *testing.T) {
			signed := signEncrypted(t, encryptedFixture(t, name+".pdf"), id)
			res := wantValid(t, signed, 1)
			s := res.Signatures[0]
			if !res.Encrypted || s.Name != "ANNA TESTOWA" || s.Reason != "Zatwierdzam – zażółć" || s.FieldName != "Podpis" || s.M == nil {
				t.Errorf("encrypted %v, name %q, reason %q, field %q, M %v", res.Encrypted, s.Name, s.Reason, s.FieldName, s.M)
			}
			if len(s.Changes) != 0 {
				t.Errorf("changes %+v", s.Changes)
			}
			runAttacks(t, []attack{
				{"signed", func(*testing.T) []byte { return signed }, verify.TotalPassed, nil},
				{"tampered ciphertext", func(t *testing.T) []byte {
					// A byte of the encrypted page content: the signed bytes are the encrypted ones.
					out := bytes.Clone(signed)
					i := bytes.Index(out, []byte("stream\n"))
					out[i+len("stream\n")+3] ^= 1
					return out
				}, verify.TotalFailed, nil},
				{"later encrypted update changes page content", func(t *testing.T) []byte {
					return rewriteContent(t, signed, []byte("BT /F1 24 Tf 72 720 Td (Kwota: 999 PLN) Tj ET"))
				}, verify.TotalFailed, hasChange(pades.ChangePageContent, false)},
				{"later update re-encrypts the same content", func(t *testing.T) []byte {
					return rewriteContent(t, signed, nil)
				}, verify.TotalPassed, func(t *testing.T, s *pades.Signature) {
					if len(s.Changes) != 0 || s.Modified {
						t.Errorf("changes %+v, modified %v", s.Changes, s.Modified)
					}
				}},
			})
		})
	}
}

// TestVerifyEncryptedUnreadable: a document that needs a user password, or uses another security handler, is a
// clear error, not a verdict on ciphertext.
func TestVerifyEncryptedUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		cause      error
		report     string
	}{
		{"RC4 with a user password", "user-rc4-128.pdf", pdf.ErrUserPassword, "encrypted with a user password: cannot be verified"},
		{"AES-256 with a user password", "user-aes-256.pdf", pdf.ErrUserPassword, "encrypted with a user password: cannot be verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := encryptedFixture(t, tc.file)
			_, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{})
			if !errors.Is(err, pades.ErrEncrypted) || !errors.Is(err, tc.cause) {
				t.Fatalf("Verify: %v", err)
			}
			rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), testPolicy())
			if rep.Error != tc.report {
				t.Errorf("report error %q, want %q", rep.Error, tc.report)
			}
		})
	}
	// A public-key security handler.
	b := encryptedFixture(t, "aes-128.pdf")
	// Same length, so that the cross-reference offsets stay right.
	old := "<< /CF << /StdCF << /AuthEvent /DocOpen /CFM /AESV2 /Length 16 >> >> /Filter /Standard"
	repl := "<</CF<</StdCF<</AuthEvent /DocOpen /CFM /AESV2 /Length 16 >> >> /Filter /Adobe.PubSec"
	pub := bytes.Replace(b, []byte(old), []byte(repl+strings.Repeat(" ", len(old)-len(repl))), 1)
	if bytes.Equal(pub, b) {
		t.Fatal("no /Filter /Standard in the fixture")
	}
	_, err := pades.Verify(context.Background(), bytes.NewReader(pub), int64(len(pub)), pades.VerifyOptions{})
	if !errors.Is(err, pades.ErrEncrypted) || !errors.Is(err, pdf.ErrUnsupportedEncryption) || !strings.Contains(err.Error(), "public-key") {
		t.Errorf("public-key handler: %v", err)
	}
}

// TestInteropEncryptedOursToPeers: poppler's pdfsig and PDFBox verify our signatures on encrypted documents (they
// decrypt on their own), and qpdf --check accepts the files.
func TestInteropEncryptedOursToPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	dir := pkiDir(t)
	root, inter := filepath.Join(dir, "root.pem"), filepath.Join(dir, "inter.pem")
	id := testpki.New().RSA
	for _, name := range encryptedFixtures {
		t.Run(name, func(t *testing.T) {
			f := writeTemp(t, t.TempDir(), "signed.pdf", signEncrypted(t, encryptedFixture(t, name+".pdf"), id))
			for _, tool := range []string{"pdfsig", "pdfbox", "qpdf"} {
				if ok, out := interoptest.Verify(t, tool, f, root, inter); !ok {
					t.Errorf("%s rejects our signature on an encrypted document:\n%s", tool, out)
				}
			}
		})
	}
}

// TestInteropEncryptedPeersToOurs: PDFBox signs the encrypted documents (decrypting and re-encrypting with its own
// code); we verify its signatures, and catch a flipped byte and a later encrypted update of the page content.
func TestInteropEncryptedPeersToOurs(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	dir := t.TempDir()
	if ok, out := interoptest.Run(t, "testpki", dir); !ok {
		t.Fatalf("testpki: %s", out)
	}
	pol := policyFromDir(t, dir)
	for _, name := range encryptedFixtures {
		t.Run(name, func(t *testing.T) {
			in := writeTemp(t, dir, name+".pdf", encryptedFixture(t, name+".pdf"))
			outPath := filepath.Join(dir, name+"-pdfbox.pdf")
			if ok, out := interoptest.Run(t, "pdfbox-sign", in, outPath, "--key", filepath.Join(dir, "signer-rsa.p12"), "--pass", "test", "--reason", "zażółć gęślą jaźń"); !ok {
				t.Fatalf("pdfbox-sign: %s", out)
			}
			signed, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, b []byte, want verify.Indication) verify.FileReport {
				t.Helper()
				rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), pol)
				for _, s := range rep.Signatures {
					t.Logf("%s: %s %s/%s %+v %q changes %+v", what, s.ID, s.Indication, s.SubIndication, s.Checks, s.Reasons, s.Changes)
				}
				if rep.Indication != want || len(rep.Signatures) != 1 {
					t.Errorf("%s: %s with %d signatures (error %q), want %s", what, rep.Indication, len(rep.Signatures), rep.Error, want)
				}
				return rep
			}
			check("PDFBox signature", signed, verify.TotalPassed)
			res := verifyBytes(t, signed)
			if s := res.Signatures[0]; s.Reason != "zażółć gęślą jaźń" {
				t.Errorf("/Reason %q: not decrypted", s.Reason)
			}
			flipped := bytes.Clone(signed)
			flipped[len(flipped)/5] ^= 1
			check("byte flipped", flipped, verify.TotalFailed)
			rep := check("content rewritten", rewriteContent(t, signed, []byte("BT /F1 40 Tf 72 500 Td (ZMIENIONO: 1000 PLN) Tj ET")), verify.TotalFailed)
			if len(rep.Signatures) == 1 && !rep.Signatures[0].Modified {
				t.Error("content rewritten: not reported as modified")
			}
		})
	}
}
