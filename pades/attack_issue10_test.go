package pades_test

// Attacks found while auditing the issue 10 verifier. Each test fails on the code it was written against.

import (
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
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

// lockedAmountDoc is the form of TestAttackFieldMDPLockedFieldDuplicated signed with a FieldMDP transform of
// the given action and fields: signature field 7, text fields "kwota" (20, filled) and "uwagi" (22, empty).
func lockedAmountDoc(t *testing.T, p *testpki.PKI, action, fields string) []byte {
	return lockedAmountForm(t, p, action, fields, "")
}

// lockedAmountForm is lockedAmountDoc with more entries in the interactive form dictionary.
func lockedAmountForm(t *testing.T, p *testpki.PKI, action, fields, form string) []byte {
	t.Helper()
	dict := "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange " + brPlaceholder +
		" /Contents " + contentsPlaceholder + " /Reference [<< /Type /SigRef /TransformMethod /FieldMDP" +
		" /TransformParams << /Type /TransformParams /Action /" + action + " /Fields [" + fields + "] /V /1.2 >> >>] >>"
	b := craftedDoc(dict, map[int]pdftest.Object{
		1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R 20 0 R 22 0 R] /SigFlags 3" + form + " >> >>"),
		4:  pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [7 0 R 20 0 R 22 0 R] >>"),
		20: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /V (100 PLN) /Rect [72 600 300 620] /P 4 0 R >>"),
		22: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (uwagi) /Rect [72 560 300 580] /P 4 0 R >>"),
	})
	s, _ := contentsSpan(t, b)
	return seal(t, b, standardRange(t, b), s, p.RSA)
}

// With /NeedAppearances a viewer draws the locked field itself from its value, the form's /DA and the fonts of
// the form's /DR: swapping the font it draws with, or the default appearance, changes what the locked field
// shows without touching it. Adding a font for another field, or changing /DA while the fields keep their own
// appearance streams, stays allowed.
func TestAttackFieldMDPLockedFieldRedrawn(t *testing.T) {
	p := testpki.New()
	const form = " /DA (/Helv 10 Tf 0 g) /DR << /Font << /Helv 3 0 R >> >>"
	drawn := lockedAmountForm(t, p, "Include", "(kwota)", form+" /NeedAppearances true")
	kept := lockedAmountForm(t, p, "Include", "(kwota)", form)
	font := pdftest.Dict("<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>")
	fill := func(t *testing.T, b []byte) pdftest.Object {
		return pdftest.Dict(strings.Replace(object(t, b, 22), "/Type /Annot", "/Type /Annot /V (zgoda)", 1))
	}
	runAttacks(t, []attack{
		{"/DR font the locked field is drawn with swapped (/NeedAppearances)", func(t *testing.T) []byte {
			return update(t, drawn, map[int]pdftest.Object{
				1:  pdftest.Dict(strings.Replace(object(t, drawn, 1), "/Helv 3 0 R", "/Helv 30 0 R", 1)),
				30: font,
			})
		}, verify.TotalFailed, hasChange(pades.ChangeFormFill, false)},
		{"form /DA turned white (/NeedAppearances)", func(t *testing.T) []byte {
			return update(t, drawn, map[int]pdftest.Object{
				1: pdftest.Dict(strings.Replace(object(t, drawn, 1), "0 g)", "1 g)", 1)),
			})
		}, verify.TotalFailed, hasChange(pades.ChangeFormFill, false)},
		{"font added to /DR while filling an unlocked field (/NeedAppearances)", func(t *testing.T) []byte {
			return update(t, drawn, map[int]pdftest.Object{
				1:  pdftest.Dict(strings.Replace(object(t, drawn, 1), "/Helv 3 0 R", "/Helv 3 0 R /Cour 30 0 R", 1)),
				22: fill(t, drawn),
				30: font,
			})
		}, verify.TotalPassed, hasChange(pades.ChangeFormFill, true)},
		{"form /DA changed while filling an unlocked field, appearances kept", func(t *testing.T) []byte {
			return update(t, kept, map[int]pdftest.Object{
				1:  pdftest.Dict(strings.Replace(object(t, kept, 1), "/Helv 10 Tf", "/Helv 12 Tf", 1)),
				22: fill(t, kept),
			})
		}, verify.TotalPassed, hasChange(pades.ChangeFormFill, true)},
	})
}

// More shapes of adding a field a viewer takes for the locked one ("kwota"): every added field and widget is
// judged under its fully qualified name, read both from the form's tree and from its /Parent chain, and under
// the names of the existing fields it equals, falls under or holds. Filling and adding unlocked fields, and
// signing a new signature field, stay allowed.
func TestAttackFieldMDPLockedFieldAddedElsewhere(t *testing.T) {
	p := testpki.New()
	signed := lockedAmountDoc(t, p, "Include", "(kwota)")
	needAppearances := func(t *testing.T, fields string) pdftest.Object {
		return pdftest.Dict(strings.Replace(strings.Replace(object(t, signed, 1), "22 0 R]", "22 0 R "+fields+"]", 1), "/AcroForm <<", "/AcroForm << /NeedAppearances true", 1))
	}
	onPage := func(t *testing.T, annots string) pdftest.Object {
		return pdftest.Dict(strings.Replace(object(t, signed, 4), "22 0 R]", "22 0 R "+annots+"]", 1))
	}
	runAttacks(t, []attack{
		{"unnamed new parent field whose kid is named like the locked one", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				1:  needAppearances(t, "30 0 R"),
				4:  onPage(t, "31 0 R"),
				30: pdftest.Dict("<< /FT /Tx /Kids [31 0 R] >>"),
				31: pdftest.Dict("<< /Type /Annot /Subtype /Widget /Parent 30 0 R /T (kwota) /V (1000000 PLN) /Rect [72 600 300 620] /P 4 0 R >>"),
			})
		}, verify.TotalFailed, hasChange(pades.ChangeAnnotation, false)},
		{"field added under the locked one's name (kwota.slownie)", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				1:  needAppearances(t, "30 0 R"),
				4:  onPage(t, "31 0 R"),
				30: pdftest.Dict("<< /T (kwota) /Kids [31 0 R] >>"),
				31: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /Parent 30 0 R /T (slownie) /V (milion) /Rect [72 640 300 660] /P 4 0 R >>"),
			})
		}, verify.TotalFailed, nil},
		{"widget named like the locked field on the page only, not in the form", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				1:  needAppearances(t, ""),
				4:  onPage(t, "30 0 R"),
				30: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /V (1000000 PLN) /Rect [72 600 300 620] /P 4 0 R >>"),
			})
		}, verify.TotalFailed, nil},
		{"signature field named like the locked one", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				1:  pdftest.Dict(strings.Replace(object(t, signed, 1), "22 0 R]", "22 0 R 30 0 R]", 1)),
				4:  onPage(t, "30 0 R"),
				30: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Sig /T (kwota) /Rect [72 600 300 620] /P 4 0 R >>"),
			})
		}, verify.TotalFailed, hasChange(pades.ChangeSignature, false)},
		{"locked field's widget moved off the page", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				20: pdftest.Dict(strings.Replace(object(t, signed, 20), "/Rect [72 600 300 620]", "/Rect [0 0 0 0]", 1)),
			})
		}, verify.TotalFailed, hasChange(pades.ChangeAnnotation, false)},
		{"new field under a name not locked (Include), then /NeedAppearances", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				1:  needAppearances(t, "30 0 R"),
				4:  onPage(t, "30 0 R"),
				30: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota_slownie) /V (sto) /Rect [72 640 300 660] /P 4 0 R >>"),
			})
		}, verify.TotalPassed, hasChange(pades.ChangeAnnotation, true)},
		{"unlocked field filled with /NeedAppearances", func(t *testing.T) []byte {
			return update(t, signed, map[int]pdftest.Object{
				1:  needAppearances(t, ""),
				22: pdftest.Dict(strings.Replace(object(t, signed, 22), "/Type /Annot", "/Type /Annot /V (zgoda)", 1)),
			})
		}, verify.TotalPassed, hasChange(pades.ChangeFormFill, true)},
		{"new signature field of another name (All)", func(t *testing.T) []byte {
			b := lockedAmountDoc(t, p, "All", "")
			return update(t, b, map[int]pdftest.Object{
				1:  pdftest.Dict(strings.Replace(object(t, b, 1), "22 0 R]", "22 0 R 30 0 R]", 1)),
				4:  pdftest.Dict(strings.Replace(object(t, b, 4), "22 0 R]", "22 0 R 30 0 R]", 1)),
				30: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Podpis2) /Rect [0 0 0 0] /P 4 0 R >>"),
			})
		}, verify.TotalPassed, hasChange(pades.ChangeSignature, true)},
	})
}
