package pades_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

// Attack classes of ../shared/spec/attacks.md (PDF part), each a crafted file with the expected verdict. The
// verdict comes from verify.PDF with the test PKI's root trusted, so a sound signature is TOTAL_PASSED and
// anything else must be caught by the checks themselves, not by an unknown root.

type attack struct {
	name string
	file func(t *testing.T) []byte
	// want is the file's indication; fact checks the facts of the signature under attack (the first one).
	want verify.Indication
	fact func(t *testing.T, s *pades.Signature)
}

func testPolicy() *verify.Policy {
	p := testpki.New()
	return &verify.Policy{Roots: certsOf(testpki.Identity{Cert: p.Root}), Intermediates: certsOf(testpki.Identity{Cert: p.Intermediate})}
}

func runAttacks(t *testing.T, cases []attack) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			b := tc.file(t)
			rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), testPolicy())
			for _, s := range rep.Signatures {
				t.Logf("%s: %s/%s checks %+v modified %v reasons %q changes %+v", s.ID, s.Indication, s.SubIndication, s.Checks, s.Modified, s.Reasons, s.Changes)
			}
			if rep.Error != "" {
				t.Logf("error: %s", rep.Error)
			}
			if rep.Indication != tc.want {
				t.Errorf("indication %s, want %s", rep.Indication, tc.want)
			}
			if tc.fact != nil {
				res, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{})
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if len(res.Signatures) == 0 {
					t.Fatal("no signature found")
				}
				tc.fact(t, res.Signatures[0])
			}
			t.Logf("took %v", time.Since(start)) // speed is measured by benchmarks, not asserted here
		})
	}
}

func hasProblem(want string) func(t *testing.T, s *pades.Signature) {
	return func(t *testing.T, s *pades.Signature) {
		t.Helper()
		for _, p := range s.Problems {
			if strings.Contains(p, want) {
				return
			}
		}
		t.Errorf("problems %q lack %q", s.Problems, want)
	}
}

func hasChange(kind pades.ChangeKind, allowed bool) func(t *testing.T, s *pades.Signature) {
	return func(t *testing.T, s *pades.Signature) {
		t.Helper()
		for _, c := range s.Changes {
			if c.Kind == kind && c.Allowed == allowed {
				return
			}
		}
		t.Errorf("changes %+v lack %s (allowed %v)", s.Changes, kind, allowed)
	}
}

// TestCraftedBaseline: the crafting helpers themselves make a valid signature.
func TestCraftedBaseline(t *testing.T) {
	runAttacks(t, []attack{{"hand-made signature", func(t *testing.T) []byte {
		b := craftedDoc(standardSigDict, nil)
		s, _ := contentsSpan(t, b)
		return seal(t, b, standardRange(t, b), s, testpki.New().RSA)
	}, verify.TotalPassed, nil}})
}

// TestAttackUSF: universal signature forgery: /Contents or /ByteRange missing, null, empty, pointing elsewhere.
func TestAttackUSF(t *testing.T) {
	p := testpki.New()
	withDict := func(dict string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			b := craftedDoc(dict, nil)
			if bytes.Contains(b, []byte(brPlaceholder)) {
				if strings.Contains(dict, contentsPlaceholder) {
					s, _ := contentsSpan(t, b)
					return seal(t, b, standardRange(t, b), s, p.RSA)
				}
				return seal(t, b, []int64{0, 100, 200, int64(len(b)) - 200}, -1, p.RSA)
			}
			return b
		}
	}
	dict := func(br, contents string) string {
		return "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange " + br + " /Contents " + contents + " >>"
	}
	runAttacks(t, []attack{
		{"/Contents missing", withDict("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange " + brPlaceholder + " >>"),
			verify.TotalFailed, hasProblem("/Contents is missing")},
		{"/Contents null", withDict(dict(brPlaceholder, "null")), verify.TotalFailed, hasProblem("/Contents is missing")},
		{"/Contents empty", withDict(dict(brPlaceholder, "<>")), verify.TotalFailed, hasProblem("/Contents is empty")},
		{"/Contents zero", withDict(dict(brPlaceholder, "0")), verify.TotalFailed, hasProblem("/Contents is not a string")},
		{"/Contents indirect", withDict(dict(brPlaceholder, "9 0 R")), verify.TotalFailed, hasProblem("/Contents is not a string")},
		{"/ByteRange missing", withDict("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /Contents " + contentsPlaceholder + " >>"),
			verify.TotalFailed, hasProblem("/ByteRange is missing")},
		{"/ByteRange null", withDict(dict("null", contentsPlaceholder)), verify.TotalFailed, hasProblem("/ByteRange is missing")},
		{"/ByteRange zero", withDict(dict("[0 0 0 0]", contentsPlaceholder)), verify.TotalFailed, nil},
		{"/ByteRange empty", withDict(dict("[]", contentsPlaceholder)), verify.TotalFailed, hasProblem("0 numbers")},
		{"/ByteRange indirect", withDict(dict("9 0 R", contentsPlaceholder)), verify.TotalFailed, hasProblem("not an array of integers")},
		{"/ByteRange of reals", withDict(dict("[0.0 100.0 200.0 300.0]", contentsPlaceholder)), verify.TotalFailed, hasProblem("not an array of integers")},
		{"/Contents as a literal string", func(t *testing.T) []byte {
			b := craftedDoc(dict(brPlaceholder, "(not hex)"), nil)
			i := bytes.Index(b, []byte("(not hex)"))
			return seal(t, b, []int64{0, int64(i), int64(i + 9), int64(len(b) - i - 9)}, -1, p.RSA)
		}, verify.TotalFailed, hasProblem("not a hexadecimal string")},
		{"gap pointing at another string (dictionary spoofing)", func(t *testing.T) []byte {
			// The gap is a second hex string (object 8); the dictionary's /Contents is a fake, signed, string.
			b := craftedDoc(dict(brPlaceholder, "<3082>"), map[int]pdftest.Object{8: pdftest.Dict(contentsPlaceholder)})
			s, e := contentsSpan(t, b)
			return seal(t, b, []int64{0, s, e, int64(len(b)) - e}, s, p.RSA)
		}, verify.TotalFailed, hasProblem("not the /Contents string")},
	})
}

// TestAttackByteRangeShape: ByteRange not starting at 0, overlapping, gap larger than /Contents, outside the file,
// six numbers, not reaching the end of the revision.
func TestAttackByteRangeShape(t *testing.T) {
	p := testpki.New()
	shaped := func(mk func(b []byte, s, e int64) []int64) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			b := craftedDoc(standardSigDict, nil)
			s, e := contentsSpan(t, b)
			return seal(t, b, mk(b, s, e), s, p.RSA)
		}
	}
	runAttacks(t, []attack{
		{"not starting at 0", shaped(func(b []byte, s, e int64) []int64 { return []int64{1, s - 1, e, int64(len(b)) - e} }),
			verify.TotalFailed, hasProblem("does not start at 0")},
		{"overlapping ranges", shaped(func(b []byte, s, e int64) []int64 { return []int64{0, e, s, int64(len(b)) - s} }),
			verify.TotalFailed, hasProblem("overlap")},
		{"gap larger than /Contents", shaped(func(b []byte, s, e int64) []int64 { return []int64{0, s - 40, e, int64(len(b)) - e} }),
			verify.TotalFailed, hasProblem("gap is larger")},
		{"gap smaller than /Contents", shaped(func(b []byte, s, e int64) []int64 { return []int64{0, s + 1, e - 1, int64(len(b)) - e + 1} }),
			verify.TotalFailed, hasProblem("not the /Contents string")},
		{"beyond the end of the file", shaped(func(b []byte, s, e int64) []int64 { return []int64{0, s, e, int64(len(b)) - e + 100} }),
			verify.TotalFailed, hasProblem("outside the file")},
		{"six numbers", shaped(func(b []byte, s, e int64) []int64 { return []int64{0, s, e, 10, e + 20, int64(len(b)) - e - 20} }),
			verify.TotalFailed, hasProblem("6 numbers")},
		{"stopping short of %%EOF", shaped(func(b []byte, s, e int64) []int64 { return []int64{0, s, e, int64(len(b)) - e - 30} }),
			verify.TotalFailed, hasProblem("does not end at the end of a revision")},
		{"negative length", shaped(func(b []byte, s, e int64) []int64 { return []int64{0, s, e, -5} }),
			verify.TotalFailed, nil},
	})
}

// shadowBase is a one-page document with an overlay XObject drawn over the text, an unreferenced alternative
// content stream, and a dangling content reference: the raw material of shadow attacks.
func shadowBase(t *testing.T) []byte {
	objs := pdftest.Simple(1, "Kwota: 100 PLN")
	objs[4] = pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> /XObject << /Cover 10 0 R >> >> /Contents [5 0 R 11 0 R 12 0 R] >>")
	objs[10] = pdftest.StreamObj("<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] >>", []byte("1 1 1 rg 60 700 400 60 re f"))
	objs[11] = pdftest.StreamObj("<< >>", []byte("q /Cover Do Q"))
	// 12 is referenced but does not exist; 13 is an unreferenced stream with other content.
	objs[13] = pdftest.StreamObj("<< >>", []byte("BT /F1 24 Tf 72 720 Td (Kwota: 100000 PLN) Tj ET"))
	objs[14] = hiddenObject(5, "<< /Length 48 >>\nstream\nBT /F1 24 Tf 72 720 Td (Kwota: 999999 PLN) Tj ET\nendstream")
	return pdftest.Build(objs, 1, pdftest.Options{})
}

// TestAttackIncrementalSaving: content appended after signing, objects overriding signed ones, new pages, shadow
// hide/replace/hide-and-replace, bytes after %%EOF, rewritten signature dictionaries.
func TestAttackIncrementalSaving(t *testing.T) {
	p := testpki.New()
	signed := func(t *testing.T) []byte { return sign(t, shadowBase(t), opts(p.RSA)) }
	after := func(objs map[int]pdftest.Object) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return update(t, signed(t), objs) }
	}
	pageDict := func(contents string) pdftest.Object {
		return pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> /XObject << /Cover 10 0 R >> >> /Contents " + contents + " /Annots [16 0 R] >>")
	}
	runAttacks(t, []attack{
		{"untouched", signed, verify.TotalPassed, nil},
		{"page content replaced", after(map[int]pdftest.Object{5: streamObj("BT /F1 24 Tf 72 720 Td (Kwota: 999 PLN) Tj ET")}),
			verify.TotalFailed, hasChange(pades.ChangePageContent, false)},
		{"font replaced (shadow replace)", after(map[int]pdftest.Object{3: pdftest.Dict("<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>")}),
			verify.TotalFailed, hasChange(pades.ChangePageContent, false)},
		{"overlay removed (shadow hide)", after(map[int]pdftest.Object{10: pdftest.StreamObj("<< /Type /XObject /Subtype /Form /BBox [0 0 0 0] >>", []byte(""))}),
			verify.TotalFailed, hasChange(pades.ChangePageContent, false)},
		{"page pointed at hidden content (shadow hide-and-replace)", after(map[int]pdftest.Object{4: pageDict("13 0 R")}),
			verify.TotalFailed, hasChange(pades.ChangePageContent, false)},
		{"dangling content reference filled in", after(map[int]pdftest.Object{12: streamObj("BT /F1 24 Tf 72 600 Td (DOPISANO) Tj ET")}),
			verify.TotalFailed, hasChange(pades.ChangePageContent, false)},
		{"xref re-pointed into signed bytes", func(t *testing.T) []byte {
			b := signed(t)
			// The signed stream 14 carries the text of an object "5 0 obj"; a new xref section points object 5 there.
			i := bytes.Index(b, []byte("\n5 0 obj\n<< /Length 48 >>"))
			return appendRawUpdate(t, b, nil, map[int]int64{5: int64(i + 1)}, "")
		}, verify.TotalFailed, hasChange(pades.ChangePageContent, false)},
		{"content stream deleted (freed)", func(t *testing.T) []byte {
			b := signed(t)
			xref := len(b)
			tail := fmt.Sprintf("xref\n5 1\n0000000000 00001 f\r\ntrailer\n<< /Size 30 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", pdftest.LastStartXref(b), xref)
			return append(bytes.Clone(b), tail...)
		}, verify.TotalFailed, hasChange(pades.ChangePageContent, false)},
		{"page added", after(map[int]pdftest.Object{
			2:  pdftest.Dict("<< /Type /Pages /Kids [4 0 R 40 0 R] /Count 2 >>"),
			40: pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 41 0 R >>"),
			41: streamObj("BT /F1 24 Tf 72 720 Td (Aneks: 1000000 PLN) Tj ET"),
		}), verify.TotalFailed, hasChange(pades.ChangePageAdded, false)},
		{"open action added", func(t *testing.T) []byte {
			b := signed(t)
			return update(t, b, map[int]pdftest.Object{1: pdftest.Dict(strings.Replace(object(t, b, 1), "/Type /Catalog", "/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>", 1))})
		}, verify.TotalFailed, hasChange(pades.ChangeOther, false)},
		{"bytes after %%EOF", func(t *testing.T) []byte {
			return append(signed(t), []byte("\n5 0 obj\n<< /Length 10 >>\nstream\nBT (x) ET\nendstream\nendobj\n")...)
		}, verify.TotalFailed, hasChange(pades.ChangeUnsignedBytes, false)},
		{"signature dictionary rewritten (/Reason)", func(t *testing.T) []byte {
			b := signed(t)
			sig, _ := sigObjects(t, b)
			d := object(t, b, sig)
			d = strings.Replace(d, "/Type /Sig", "/Type /Sig /Reason (Zgoda na przelew 1000000 PLN)", 1)
			return update(t, b, map[int]pdftest.Object{sig: pdftest.Dict(d)})
		}, verify.TotalFailed, func(t *testing.T, s *pades.Signature) {
			if !s.DictionaryRewritten || s.Reason != "" {
				t.Errorf("rewritten %v, reason %q (must be the signed one)", s.DictionaryRewritten, s.Reason)
			}
		}},
		{"signature dictionary rewritten (/ByteRange)", func(t *testing.T) []byte {
			b := signed(t)
			sig, _ := sigObjects(t, b)
			d := object(t, b, sig)
			i := strings.Index(d, "/ByteRange [")
			j := strings.Index(d[i:], "]") + i + 1
			d = d[:i] + "/ByteRange [0 10 20 30]" + d[j:]
			return update(t, b, map[int]pdftest.Object{sig: pdftest.Dict(d)})
		}, verify.TotalFailed, func(t *testing.T, s *pades.Signature) {
			if !s.DictionaryRewritten || s.CoveredRevision != 2 || s.CMSResult == nil || !s.CMSResult.SignatureOK {
				t.Errorf("rewritten %v, covered revision %d, CMS %+v", s.DictionaryRewritten, s.CoveredRevision, s.CMSResult)
			}
		}},
		{"signature field removed from the form", func(t *testing.T) []byte {
			b := signed(t)
			r, _ := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
			cat, _, _ := r.Latest().Catalog()
			af := cat["AcroForm"].(pdf.Ref)
			return update(t, b, map[int]pdftest.Object{int(af.Num): pdftest.Dict("<< /Fields [] /SigFlags 3 >>")})
		}, verify.TotalFailed, hasChange(pades.ChangeOther, false)},
		{"signature widget replaced", func(t *testing.T) []byte {
			b := signed(t)
			_, w := sigObjects(t, b)
			return update(t, b, map[int]pdftest.Object{w: pdftest.Dict(strings.Replace(object(t, b, w), "/V ", "/V 99 0 R /X ", 1))})
		}, verify.TotalFailed, nil},
		// An update whose /Prev bypasses the signed revision: every reader (Acrobat included) then shows the
		// unsigned original, so there is no signature to report, and none is claimed valid.
		{"xref chain skipping the signed revision", func(t *testing.T) []byte {
			b := signed(t)
			// An update whose /Prev points at the original file's section, bypassing the signature's revision.
			orig := shadowBase(t)
			body := []byte("5 0 obj\n<< /Length 9 >>\nstream\nBT (x) ET\nendstream\nendobj\n")
			off := int64(len(b))
			out := append(bytes.Clone(b), body...)
			xref := len(out)
			out = append(out, fmt.Sprintf("xref\n5 1\n%010d 00000 n\r\ntrailer\n<< /Size 30 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", off, pdftest.LastStartXref(orig), xref)...)
			return out
		}, verify.NoSignature, nil},
	})
}

// TestAttackAllowedChanges: what incremental updates may do without DocMDP: annotations, form filling, further
// signatures. (The first signature stays TOTAL_PASSED, the change is listed as allowed.)
func TestAttackAllowedChanges(t *testing.T) {
	p := testpki.New()
	runAttacks(t, []attack{
		{"annotation added", func(t *testing.T) []byte { return addAnnotation(t, sign(t, formBase(), opts(p.RSA))) },
			verify.TotalPassed, hasChange(pades.ChangeAnnotation, true)},
		{"form filled", func(t *testing.T) []byte { return fillForm(t, sign(t, formBase(), opts(p.RSA))) },
			verify.TotalPassed, hasChange(pades.ChangeFormFill, true)},
		{"second signature", func(t *testing.T) []byte { return sign(t, sign(t, formBase(), opts(p.RSA)), opts(p.EC256)) },
			verify.TotalPassed, hasChange(pades.ChangeSignature, true)},
	})
}

// formBase has a text field (20, widget merged) on its page.
func formBase() []byte {
	objs := pdftest.Simple(1, "Formularz")
	objs[1] = pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [20 0 R] /DA (/Helv 10 Tf 0 g) >> >>")
	objs[4] = pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [20 0 R] >>")
	objs[20] = pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /Rect [72 600 300 620] /P 4 0 R /AP << /N 21 0 R >> >>")
	objs[21] = pdftest.StreamObj("<< /Type /XObject /Subtype /Form /BBox [0 0 228 20] >>", []byte(""))
	return pdftest.Build(objs, 1, pdftest.Options{})
}

// fillForm sets the text field's value and appearance.
func fillForm(t *testing.T, b []byte) []byte {
	return update(t, b, map[int]pdftest.Object{
		20: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /V (100 PLN) /Rect [72 600 300 620] /P 4 0 R /AP << /N 50 0 R >> >>"),
		50: pdftest.StreamObj("<< /Type /XObject /Subtype /Form /BBox [0 0 228 20] /Resources << /Font << /F1 3 0 R >> >> >>", []byte("BT /F1 10 Tf 2 5 Td (100 PLN) Tj ET")),
	})
}

// addAnnotation adds a text annotation to the first page (rewriting its /Annots).
func addAnnotation(t *testing.T, b []byte) []byte {
	r, err := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := r.Latest().Pages()
	pg := pages[0]
	d := pg.Dict.Clone()
	annots, _ := r.Latest().Resolve(d["Annots"])
	arr, _ := annots.(pdf.Array)
	d["Annots"] = append(append(pdf.Array{}, arr...), pdf.Ref{Num: 60})
	return update(t, b, map[int]pdftest.Object{
		int(pg.Ref.Num): pdftest.Dict(string(pdf.AppendObject(nil, d))),
		60:              pdftest.Dict("<< /Type /Annot /Subtype /Text /Rect [400 700 420 720] /Contents (Uwaga) /P 4 0 R >>"),
	})
}

// TestAttackCMS: CMS defects inside an otherwise sound PDF signature.
func TestAttackCMS(t *testing.T) {
	p := testpki.New()
	base := func(t *testing.T) []byte { return sign(t, simplePDF(1, ""), opts(p.RSA)) }
	with := func(spec func(digest []byte) cmsSpec) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			b := base(t)
			return replaceCMS(t, b, spec(rangeDigest(t, b, crypto.SHA256)).build(t))
		}
	}
	runAttacks(t, []attack{
		{"hand-made CMS, sound", with(func(d []byte) cmsSpec { return cmsSpec{signer: p.RSA, digest: d} }), verify.TotalPassed, nil},
		{"two SignerInfos, both sound", with(func(d []byte) cmsSpec {
			return cmsSpec{signer: p.RSA, digest: d, coSigners: []testpki.Identity{p.EC256}}
		}), verify.TotalPassed,
			func(t *testing.T, s *pades.Signature) {
				if s.CMSErr != nil || len(s.CMSResults) != 2 {
					t.Errorf("several SignerInfos: err %v, %d results", s.CMSErr, len(s.CMSResults))
				}
			}},
		{"two SignerInfos, the second corrupted", with(func(d []byte) cmsSpec {
			return cmsSpec{signer: p.RSA, digest: d, coSigners: []testpki.Identity{p.EC256}, coSigMutate: func(_ int, sig []byte) { sig[len(sig)-4] ^= 1 }}
		}), verify.TotalFailed, nil},
		{"no messageDigest", with(func(d []byte) cmsSpec {
			return cmsSpec{signer: p.RSA, digest: d, attrs: [][]byte{attr(oidContentType, mustMarshal(oidData)), essCertV2(p.RSA.Cert)}}
		}), verify.TotalFailed, nil},
		{"wrong content type", with(func(d []byte) cmsSpec { return cmsSpec{signer: p.RSA, digest: d, contentType: oidSignedData} }), verify.TotalFailed, nil},
		{"digest of other content", with(func(d []byte) cmsSpec {
			x := bytes.Clone(d)
			x[0] ^= 1
			return cmsSpec{signer: p.RSA, digest: x}
		}), verify.TotalFailed, nil},
		{"signature value corrupted", with(func(d []byte) cmsSpec { return cmsSpec{signer: p.RSA, digest: d, corruptSig: true} }), verify.TotalFailed, nil},
		{"certificates missing", with(func(d []byte) cmsSpec { return cmsSpec{signer: p.RSA, digest: d, noCerts: true} }), verify.Indeterminate,
			func(t *testing.T, s *pades.Signature) {
				if s.CMSResult == nil || s.CMSResult.SignerCert != nil {
					t.Error("signer certificate found in a CMS without certificates")
				}
			}},
		{"signingCertificateV2 names another certificate", with(func(d []byte) cmsSpec {
			return cmsSpec{signer: p.RSA, digest: d, essCert: p.RSASameSubject.Cert}
		}), verify.TotalFailed, nil},
		{"attacker's self-signed certificate", with(func(d []byte) cmsSpec { return cmsSpec{signer: p.Attacker, digest: d} }), verify.Indeterminate, nil},
		{"same subject, other key (certificate swap)", with(func(d []byte) cmsSpec {
			// Signed by the victim's key, but the embedded certificate is the look-alike.
			return cmsSpec{signer: testpki.Identity{Key: p.RSA.Key, Cert: p.RSASameSubject.Cert,
				Chain: []*x509.Certificate{p.RSASameSubject.Cert, p.Intermediate}}, digest: d}
		}), verify.TotalFailed, nil},
		{"weak RSA-1024 key", func(t *testing.T) []byte { return sign(t, simplePDF(1, ""), opts(p.WeakRSA)) }, verify.Indeterminate, nil},
		{"SHA-1 digest", func(t *testing.T) []byte {
			b := base(t)
			return replaceCMS(t, b, cmsSpec{signer: p.RSA, hash: crypto.SHA1, digest: rangeDigest(t, b, crypto.SHA1)}.build(t))
		}, verify.Indeterminate, nil},
		{"garbage instead of CMS", func(t *testing.T) []byte { return replaceCMS(t, base(t), []byte("not a CMS at all")) }, verify.TotalFailed, nil},
	})
}

// TestAttackParser: parser bombs in a signed file give a clear error (TOTAL_FAILED), quickly.
func TestAttackParser(t *testing.T) {
	p := testpki.New()
	bomb := pdftest.Deflate(make([]byte, 64<<20))
	runAttacks(t, []attack{
		{"deflate bomb in an object stream", func(t *testing.T) []byte {
			// The catalog lives in an object stream that inflates to 64 MB.
			objs := pdftest.Simple(1, "x")
			objs[1] = pdftest.Object{Body: objs[1].Body, Compress: true}
			return pdftest.Build(objs, 1, pdftest.Options{XrefStream: true, ObjStmData: bomb})
		}, verify.TotalFailed, nil},
		{"deflate bomb in a signed file's object stream", func(t *testing.T) []byte {
			// A later revision adds an annotation stored in an object stream that inflates to 64 MB.
			b := sign(t, simplePDF(1, ""), opts(p.RSA))
			page := strings.Replace(object(t, b, 4), "/Annots [", "/Annots [40 0 R ", 1)
			objs := map[int]pdftest.Object{4: pdftest.Dict(page), 40: {Body: "<< /Type /Annot /Subtype /Text /Rect [0 0 1 1] >>", Compress: true}}
			return pdftest.Append(b, objs, 1, pdftest.Options{XrefStream: true, ObjStmData: bomb})
		}, verify.TotalFailed, nil},
		{"xref loop", func(t *testing.T) []byte {
			b := sign(t, simplePDF(1, ""), opts(p.RSA))
			xref := len(b)
			return append(bytes.Clone(b), fmt.Sprintf("xref\n0 1\n0000000000 65535 f\r\ntrailer\n<< /Size 30 /Root 1 0 R /Prev %010d >>\nstartxref\n%d\n%%%%EOF\n", xref, xref)...)
		}, verify.TotalFailed, nil},
		{"huge object numbers", func(t *testing.T) []byte {
			b := sign(t, simplePDF(1, ""), opts(p.RSA))
			return appendRawUpdate(t, b, nil, map[int]int64{4000000000: 10}, "")
		}, verify.TotalFailed, nil},
		{"deep nesting in the signature dictionary", func(t *testing.T) []byte {
			deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
			return craftedDoc("<< /Type /Sig /X "+deep+" /Contents <00> /ByteRange [0 1 2 3] >>", nil)
		}, verify.TotalFailed, nil},
		{"not a PDF", func(t *testing.T) []byte { return []byte("PK\x03\x04 zip, not pdf") }, verify.TotalFailed, nil},
		{"truncated signed file", func(t *testing.T) []byte {
			b := sign(t, simplePDF(1, ""), opts(p.RSA))
			return b[:len(b)-7]
		}, verify.TotalFailed, nil},
	})
}

// TestNoSignature: a readable PDF without signatures is NO_SIGNATURE_FOUND, not an error.
func TestNoSignature(t *testing.T) {
	b := simplePDF(1, "")
	rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), testPolicy())
	if rep.Indication != verify.NoSignature || rep.Error != "" || len(rep.Signatures) != 0 {
		t.Errorf("%s %q %d", rep.Indication, rep.Error, len(rep.Signatures))
	}
	if _, err := pades.Verify(context.Background(), bytes.NewReader([]byte("x")), 1, pades.VerifyOptions{}); !errors.Is(err, pades.ErrNoPDF) {
		t.Errorf("Verify on garbage: %v", err)
	}
}

// TestAttackFieldMDP: a signature whose FieldMDP transform locks fields makes later changes to those fields
// not allowed, while other fields may still be filled.
func TestAttackFieldMDP(t *testing.T) {
	p := testpki.New()
	doc := func(action, fields string) []byte {
		dict := "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange " + brPlaceholder +
			" /Contents " + contentsPlaceholder + " /Reference [<< /Type /SigRef /TransformMethod /FieldMDP" +
			" /TransformParams << /Type /TransformParams /Action /" + action + " /Fields [" + fields + "] /V /1.2 >> >>] >>"
		b := craftedDoc(dict, map[int]pdftest.Object{
			1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R 20 0 R 22 0 R] /SigFlags 3 >> >>"),
			4:  pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [7 0 R 20 0 R 22 0 R] >>"),
			20: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /Rect [72 600 300 620] /P 4 0 R >>"),
			22: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (uwagi) /Rect [72 560 300 580] /P 4 0 R >>"),
		})
		s, _ := contentsSpan(t, b)
		return seal(t, b, standardRange(t, b), s, p.RSA)
	}
	fill := func(num int, name string) func(b []byte) []byte {
		return func(b []byte) []byte {
			field := object(t, b, num)
			if !strings.Contains(field, "/T ("+name+")") {
				t.Fatalf("object %d is %s", num, field)
			}
			return update(t, b, map[int]pdftest.Object{num: pdftest.Dict(strings.Replace(field, "/Type /Annot", "/Type /Annot /V (1000000 PLN)", 1))})
		}
	}
	runAttacks(t, []attack{
		{"locked field filled (Include)", func(t *testing.T) []byte { return fill(20, "kwota")(doc("Include", "(kwota)")) },
			verify.TotalFailed, hasChange(pades.ChangeFormFill, false)},
		{"other field filled (Include)", func(t *testing.T) []byte { return fill(22, "uwagi")(doc("Include", "(kwota)")) },
			verify.TotalPassed, hasChange(pades.ChangeFormFill, true)},
		{"field filled (All)", func(t *testing.T) []byte { return fill(22, "uwagi")(doc("All", "")) },
			verify.TotalFailed, hasChange(pades.ChangeFormFill, false)},
		{"excluded field filled (Exclude)", func(t *testing.T) []byte { return fill(22, "uwagi")(doc("Exclude", "(uwagi)")) },
			verify.TotalPassed, hasChange(pades.ChangeFormFill, true)},
		{"not excluded field filled (Exclude)", func(t *testing.T) []byte { return fill(20, "kwota")(doc("Exclude", "(uwagi)")) },
			verify.TotalFailed, hasChange(pades.ChangeFormFill, false)},
	})
}

// A file with more signatures than the limit is not checked beyond it, and cannot pass.
func TestAttackTooManySignatures(t *testing.T) {
	p := testpki.New()
	out := simplePDF(1, "")
	for i := 0; i < 3; i++ {
		o := opts(p.EC256)
		o.Visible = new(bool)
		out = sign(t, out, o)
	}
	res, err := pades.Verify(context.Background(), bytes.NewReader(out), int64(len(out)), pades.VerifyOptions{MaxSignatures: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Signatures) != 3 || res.Signatures[2].CMSResult != nil || len(res.Signatures[2].Problems) == 0 ||
		!strings.Contains(res.Signatures[2].Problems[0], "more than the limit of 2") {
		t.Fatalf("%d signatures; last: %+v", len(res.Signatures), res.Signatures[len(res.Signatures)-1].Problems)
	}
	for _, s := range res.Signatures[:2] {
		if s.CMSResult == nil || !s.CMSResult.SignatureOK {
			t.Errorf("signature %s under the limit not checked", s.FieldName)
		}
	}
}

// SignedContent is exactly what the digest covered: hashing it gives the signature's digest, and it is the file
// without the /Contents gap, so bytes appended later are not in it.
func TestSignedContentIsWhatWasDigested(t *testing.T) {
	p := testpki.New()
	out := sign(t, simplePDF(1, ""), opts(p.EC256))
	out = append(out, "\n% appended after signing\n"...)
	res, err := pades.Verify(context.Background(), bytes.NewReader(out), int64(len(out)), pades.VerifyOptions{})
	if err != nil || len(res.Signatures) != 1 {
		t.Fatal(err)
	}
	s := res.Signatures[0]
	got, err := io.ReadAll(s.SignedContent())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(got)
	if !bytes.Equal(sum[:], s.Digest) {
		t.Error("SignedContent does not hash to the signature's digest")
	}
	br := s.ByteRange
	if want := append(append([]byte(nil), out[:br[1]]...), out[br[2]:br[2]+br[3]]...); !bytes.Equal(got, want) {
		t.Error("SignedContent is not the two ranges")
	}
	if bytes.Contains(got, []byte("appended after signing")) {
		t.Error("SignedContent holds bytes after the signed revision")
	}
}
