package pades_test

// Attacks found while auditing the issue 10 verifier. Each test fails on the code it was written against.

import (
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

// A FieldMDP lock is checked only on changes to the locked field's existing objects. A later revision that adds a
// second field with the locked field's name ("kwota"), filled with another amount and with a widget on the page,
// is judged as a new form field and a new widget, both allowed after an approval signature: the locked amount is
// shown changed and the signature still passes.
func TestAttackFieldMDPLockedFieldDuplicated(t *testing.T) {
	p := testpki.New()
	dict := "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange " + brPlaceholder +
		" /Contents " + contentsPlaceholder + " /Reference [<< /Type /SigRef /TransformMethod /FieldMDP" +
		" /TransformParams << /Type /TransformParams /Action /Include /Fields [(kwota)] /V /1.2 >> >>] >>"
	b := craftedDoc(dict, map[int]pdftest.Object{
		1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R 20 0 R 22 0 R] /SigFlags 3 >> >>"),
		4:  pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [7 0 R 20 0 R 22 0 R] >>"),
		20: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /V (100 PLN) /Rect [72 600 300 620] /P 4 0 R >>"),
		22: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (uwagi) /Rect [72 560 300 580] /P 4 0 R >>"),
	})
	s, _ := contentsSpan(t, b)
	signed := seal(t, b, standardRange(t, b), s, p.RSA)
	runAttacks(t, []attack{
		{"second field named like the locked one", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				1:  pdftest.Dict(strings.Replace(object(t, signed, 1), "22 0 R]", "22 0 R 30 0 R]", 1)),
				4:  pdftest.Dict(strings.Replace(object(t, signed, 4), "22 0 R]", "22 0 R 30 0 R]", 1)),
				30: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /V (1000000 PLN) /Rect [72 600 300 620] /P 4 0 R /AP << /N 31 0 R >> >>"),
				31: pdftest.StreamObj("<< /Type /XObject /Subtype /Form /BBox [0 0 228 20] /Resources << /Font << /F1 3 0 R >> >> >>", []byte("1 g 0 0 228 20 re f 0 g BT /F1 10 Tf 2 5 Td (1000000 PLN) Tj ET")),
			})
		}, verify.TotalFailed, nil},
		{"kid widget added to the locked field", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				4:  pdftest.Dict(strings.Replace(object(t, signed, 4), "22 0 R]", "22 0 R 30 0 R]", 1)),
				30: pdftest.Dict("<< /Type /Annot /Subtype /Widget /Parent 20 0 R /Rect [72 600 300 620] /P 4 0 R /AP << /N 31 0 R >> >>"),
				31: pdftest.StreamObj("<< /Type /XObject /Subtype /Form /BBox [0 0 228 20] /Resources << /Font << /F1 3 0 R >> >> >>", []byte("1 g 0 0 228 20 re f 0 g BT /F1 10 Tf 2 5 Td (1000000 PLN) Tj ET")),
			})
		}, verify.TotalFailed, nil},
		{"second field named like the locked one, appearance left to the viewer (/NeedAppearances)", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				1:  pdftest.Dict(strings.Replace(strings.Replace(object(t, signed, 1), "22 0 R]", "22 0 R 30 0 R]", 1), "/AcroForm <<", "/AcroForm << /NeedAppearances true", 1)),
				4:  pdftest.Dict(strings.Replace(object(t, signed, 4), "22 0 R]", "22 0 R 30 0 R]", 1)),
				30: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /V (1000000 PLN) /Rect [72 600 300 620] /P 4 0 R >>"),
			})
		}, verify.TotalFailed, nil},
		{"locked field's value changed through /NeedAppearances only", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				1:  pdftest.Dict(strings.Replace(object(t, signed, 1), "/AcroForm <<", "/AcroForm << /NeedAppearances true", 1)),
				22: pdftest.Dict(strings.Replace(object(t, signed, 22), "/T (uwagi)", "/T (uwagi) /Parent 20 0 R", 1)),
			})
		}, verify.TotalFailed, nil},
	})
}
