package pades_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

// The change-analysis rules, one table: each attack on what a signature covers and each legitimate later
// revision (form filling, signing, metadata, validation data), judged on the first signature's facts.

// changeForm is a one-page form signed later: text field "kwota" (20) already filled with appearance stream 21,
// text field "uwagi" (22) empty with appearance stream 23, and combo box "waluta" (24) with appearance 25. over
// replaces or adds objects (to share objects between fields, the trick of the sneaky attacks).
func changeForm(over map[int]pdftest.Object) []byte {
	objs := pdftest.Simple(1, "Formularz")
	objs[1] = pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [20 0 R 22 0 R 24 0 R] /DA (/Helv 10 Tf 0 g) >> >>")
	objs[4] = pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [20 0 R 22 0 R 24 0 R] >>")
	objs[20] = pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /V (100 PLN) /Rect [72 600 300 620] /P 4 0 R /AP << /N 21 0 R >> >>")
	objs[21] = apStream("100 PLN")
	objs[22] = pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (uwagi) /Rect [72 560 300 580] /P 4 0 R /AP << /N 23 0 R >> >>")
	objs[23] = apStream("")
	objs[24] = pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Ch /Ff 131072 /T (waluta) /Opt [(PLN) (EUR)] /V (PLN) /I [0] /Rect [72 520 300 540] /P 4 0 R /AP << /N 25 0 R >> >>")
	objs[25] = apStream("PLN")
	for n, o := range over {
		objs[n] = o
	}
	return pdftest.Build(objs, 1, pdftest.Options{})
}

// apStream is a form XObject showing text.
func apStream(text string) pdftest.Object {
	data := ""
	if text != "" {
		data = "BT /F1 10 Tf 2 5 Td (" + text + ") Tj ET"
	}
	return pdftest.StreamObj("<< /Type /XObject /Subtype /Form /BBox [0 0 228 20] /Resources << /Font << /F1 3 0 R >> >> >>", []byte(data))
}

// withEntry returns object num of b (its latest version, a dictionary) with extra entries added after "<<".
func withEntry(t *testing.T, b []byte, num int, entries string) pdftest.Object {
	t.Helper()
	d := object(t, b, num)
	if !strings.HasPrefix(d, "<<") {
		t.Fatalf("object %d is not a dictionary: %s", num, d)
	}
	return pdftest.Dict("<<" + entries + " " + d[2:])
}

// replaceIn returns object num of b with old replaced by new (which must occur).
func replaceIn(t *testing.T, b []byte, num int, old, new string) pdftest.Object {
	t.Helper()
	d := object(t, b, num)
	if !strings.Contains(d, old) {
		t.Fatalf("object %d lacks %q: %s", num, old, d)
	}
	return pdftest.Dict(strings.Replace(d, old, new, 1))
}

// sigAppearance returns the object number of the appearance stream of the last signature's widget.
func sigAppearance(t *testing.T, b []byte) int {
	t.Helper()
	_, w := sigObjects(t, b)
	m := regexp.MustCompile(`/AP <</N (\d+) 0 R>>`).FindStringSubmatch(object(t, b, w))
	if m == nil {
		t.Fatalf("no appearance in widget %d: %s", w, object(t, b, w))
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// updateTrailer appends an update whose trailer carries extra entries.
func updateTrailer(t *testing.T, b []byte, objs map[int]pdftest.Object, trailer string) []byte {
	t.Helper()
	r, err := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, kind := r.LastXref()
	root, _ := r.Trailer()["Root"].(pdf.Ref)
	return pdftest.Append(b, objs, int(root.Num), pdftest.Options{XrefStream: kind == pdf.XrefStream, Trailer: trailer})
}

const xmpPacket = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"><xmp:ModifyDate>%s</xmp:ModifyDate></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`

func xmpStream(date string) pdftest.Object {
	return pdftest.StreamObj("<< /Type /Metadata /Subtype /XML >>", []byte(fmt.Sprintf(xmpPacket, date)))
}

// dssObjects returns a DSS dictionary (object 70) with a certificate stream (71) and one VRI entry (72).
func dssObjects() map[int]pdftest.Object {
	cert := testpki.New().RSA.Cert.Raw
	return map[int]pdftest.Object{
		70: pdftest.Dict("<< /Type /DSS /Certs [71 0 R] /VRI << /" + strings.Repeat("AB12", 10) + " 72 0 R >> >>"),
		71: pdftest.StreamObj("<< >>", cert),
		72: pdftest.Dict("<< /Cert [71 0 R] >>"),
	}
}

func TestChangeRules(t *testing.T) {
	p := testpki.New()
	approval := func(over map[int]pdftest.Object) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return sign(t, changeForm(over), opts(p.RSA)) }
	}
	certified := func(P int, over map[int]pdftest.Object) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			o := opts(p.RSA)
			o.DocMDP = P
			return sign(t, changeForm(over), o)
		}
	}
	visible := func(t *testing.T) []byte {
		o := opts(p.RSA)
		v := true
		o.Visible = &v
		return sign(t, changeForm(nil), o)
	}
	fillUwagi := func(t *testing.T, b []byte, ap string) pdftest.Object {
		return replaceIn(t, b, 22, "/T (uwagi)", "/T (uwagi) /V (zgoda)"+ap)
	}
	type tc struct {
		name     string
		signed   func(t *testing.T) []byte
		after    func(t *testing.T, b []byte) []byte
		modified bool
		kind     pades.ChangeKind // a change of this kind, allowed exactly when !modified ("": no change reported)
	}
	cases := []tc{
		// Sneaky indirect-appearance attacks (pyHanko's test_diff_analysis family): filling or signing one field
		// rewrites an object that another, signed, part of the document also shows.
		{"attack: appearance stream shared with a filled field, overwritten while filling another",
			approval(map[int]pdftest.Object{22: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (uwagi) /Rect [72 560 300 580] /P 4 0 R /AP << /N 21 0 R >> >>")}),
			func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{22: fillUwagi(t, b, ""), 21: apStream("999 PLN")})
			}, true, pades.ChangeOther},
		{"attack: indirect /AP dictionary shared with a filled field, overwritten (stream not overridden)",
			approval(map[int]pdftest.Object{
				20: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /V (100 PLN) /Rect [72 600 300 620] /P 4 0 R /AP 26 0 R >>"),
				22: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (uwagi) /Rect [72 560 300 580] /P 4 0 R /AP 26 0 R >>"),
				26: pdftest.Dict("<< /N 21 0 R >>"),
			}),
			func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{22: fillUwagi(t, b, ""), 26: pdftest.Dict("<< /N 50 0 R >>"), 50: apStream("999 PLN")})
			}, true, pades.ChangeOther},
		{"attack: appearance stream also named by the catalog, overwritten",
			approval(map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /FooBar 23 0 R /AcroForm << /Fields [20 0 R 22 0 R 24 0 R] >> >>")}),
			func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{22: fillUwagi(t, b, ""), 23: apStream("zgoda")})
			}, true, pades.ChangeOther},
		{"attack: appearance dictionary named by the trailer, overwritten",
			approval(map[int]pdftest.Object{
				22: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (uwagi) /Rect [72 560 300 580] /P 4 0 R /AP 26 0 R >>"),
				26: pdftest.Dict("<< /N 23 0 R >>"),
			}),
			func(t *testing.T, b []byte) []byte {
				return updateTrailer(t, b, map[int]pdftest.Object{22: fillUwagi(t, b, ""), 26: pdftest.Dict("<< /N 50 0 R >>"), 50: apStream("zgoda")}, "/FooBar 26 0 R")
			}, true, pades.ChangeOther},
		{"attack: empty signature field's /AP dictionary, also named by the catalog, swapped for a new one when signing (pyHanko's no-override sneaky file)",
			approval(map[int]pdftest.Object{
				1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /FooBar 26 0 R /AcroForm << /Fields [20 0 R 22 0 R 24 0 R 28 0 R] /SigFlags 3 >> >>"),
				4:  pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [20 0 R 22 0 R 24 0 R 28 0 R] >>"),
				26: pdftest.Dict("<< /N 29 0 R >>"),
				28: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Pusty) /F 132 /Rect [300 100 500 150] /P 4 0 R /AP 26 0 R >>"),
				29: apStream(""),
			}),
			func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{
					28: replaceIn(t, b, 28, "/AP 26 0 R", "/AP <</N 50 0 R>> /V 61 0 R"),
					50: apStream("Podpisano"),
					61: pdftest.Dict("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <00> >>"),
				})
			}, true, pades.ChangeOther},
		{"attack: appearance stream also drawn by the page, overwritten",
			approval(map[int]pdftest.Object{
				4: pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> /XObject << /X 21 0 R >> >> /Contents 5 0 R /Annots [20 0 R 22 0 R 24 0 R] >>"),
			}),
			func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{20: replaceIn(t, b, 20, "(100 PLN)", "(999 PLN)"), 21: apStream("999 PLN")})
			}, true, pades.ChangePageContent},
		{"attack: filled field's appearance overwritten without filling it",
			approval(nil),
			func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{21: apStream("999 PLN")})
			}, true, pades.ChangeOther},
		{"attack: signed signature's appearance stream overwritten", visible,
			func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{sigAppearance(t, b): apStream("Podpisano: JAN INNY")})
			}, true, pades.ChangeOther},
		{"attack: signed signature's widget given a new appearance", visible,
			func(t *testing.T, b []byte) []byte {
				_, w := sigObjects(t, b)
				ap := sigAppearance(t, b)
				return update(t, b, map[int]pdftest.Object{
					w:  replaceIn(t, b, w, fmt.Sprintf("/AP <</N %d 0 R>>", ap), "/AP <</N 50 0 R>>"),
					50: apStream("Podpisano: JAN INNY"),
				})
			}, true, pades.ChangeOther},
		{"attack: empty signature field's appearance shared with a filled field, overwritten when signing it",
			approval(map[int]pdftest.Object{
				1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [20 0 R 22 0 R 24 0 R 28 0 R] /SigFlags 3 >> >>"),
				4:  pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [20 0 R 22 0 R 24 0 R 28 0 R] >>"),
				28: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Pusty) /F 132 /Rect [300 100 500 150] /P 4 0 R /AP << /N 21 0 R >> >>"),
			}),
			func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{
					28: replaceIn(t, b, 28, "/T (Pusty)", "/T (Pusty) /V 61 0 R"),
					61: pdftest.Dict("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <00> >>"),
					21: apStream("999 PLN"),
				})
			}, true, pades.ChangeOther},
		{"attack: text field turned into a signature field (/FT)", approval(nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{22: replaceIn(t, b, 22, "/FT /Tx", "/FT /Sig")})
		}, true, pades.ChangeOther},
		{"attack: field /Kids set to [null]", approval(nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{22: withEntry(t, b, 22, " /Kids [null]")})
		}, true, pades.ChangeOther},
		{"attack: field renamed", approval(nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{22: replaceIn(t, b, 22, "/T (uwagi)", "/T (kwota)")})
		}, true, pades.ChangeOther},
		{"attack: signature removed from its field", approval(nil), func(t *testing.T, b []byte) []byte {
			sig, w := sigObjects(t, b)
			return update(t, b, map[int]pdftest.Object{w: replaceIn(t, b, w, fmt.Sprintf("/V %d 0 R", sig), "")})
		}, true, pades.ChangeSignatureDict},
		{"attack: signature widget removed from the page", approval(nil), func(t *testing.T, b []byte) []byte {
			_, w := sigObjects(t, b)
			return update(t, b, map[int]pdftest.Object{4: replaceIn(t, b, 4, fmt.Sprintf(" %d 0 R]", w), "]")})
		}, true, pades.ChangeOther},
		{"attack: /Fields array also named by a private catalog entry, extended by a second signature",
			approval(map[int]pdftest.Object{
				1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /Blah 27 0 R /AcroForm << /Fields 27 0 R >> >>"),
				27: pdftest.Dict("[20 0 R 22 0 R 24 0 R]"),
			}),
			func(t *testing.T, b []byte) []byte { return sign(t, b, opts(p.EC256)) }, true, pades.ChangeOther},
		{"attack: appearance stream shared by more widgets than the analysis records", approval(manyShared(70)),
			func(t *testing.T, b []byte) []byte {
				objs := map[int]pdftest.Object{21: apStream("999 PLN")}
				for i := 0; i < 70; i++ {
					objs[100+i] = replaceIn(t, b, 100+i, "/T (", "/V (x) /T (")
				}
				return update(t, b, objs)
			}, true, pades.ChangeOther},
		{"attack: form replaced by a new dictionary without the signature field", certified(2, nil), func(t *testing.T, b []byte) []byte {
			cat := object(t, b, 1)
			i := strings.Index(cat, "/AcroForm <<")
			j := strings.Index(cat[i:], ">>") + i + 2
			return update(t, b, map[int]pdftest.Object{
				1:  pdftest.Dict(cat[:i] + "/AcroForm 81 0 R" + cat[j:]),
				81: pdftest.Dict("<< /Fields [20 0 R 22 0 R 24 0 R] /DA (/Helv 10 Tf 0 g) >>"),
			})
		}, true, pades.ChangeOther},
		{"attack: bogus XMP metadata", approval(map[int]pdftest.Object{
			1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /Metadata 40 0 R /AcroForm << /Fields [20 0 R 22 0 R 24 0 R] >> >>"),
			40: xmpStream("2026-01-01T00:00:00Z"),
		}), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{40: pdftest.StreamObj("<< /Type /Metadata /Subtype /XML >>", []byte("This is bogus data"))})
		}, true, pades.ChangeOther},
		{"attack: DSS that is not a dictionary", approval(nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{1: withEntry(t, b, 1, " /DSS 70 0 R"), 70: pdftest.Dict("(Hi there)")})
		}, true, pades.ChangeDSS},
		{"attack: DSS with unexpected keys", approval(nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{1: withEntry(t, b, 1, " /DSS 70 0 R"), 70: pdftest.Dict("<< /Certs [] /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>")})
		}, true, pades.ChangeDSS},
		{"attack: DSS clobbering a font the page uses", approval(nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{1: withEntry(t, b, 1, " /DSS 3 0 R"), 3: pdftest.Dict("<< /Type /DSS /Certs [] >>")})
		}, true, pades.ChangePageContent},
		{"attack: validation data removed", approval(nil), func(t *testing.T, b []byte) []byte {
			b = withDSS(t, b)
			return update(t, b, map[int]pdftest.Object{1: replaceIn(t, b, 1, "/DSS 70 0 R", "")})
		}, true, pades.ChangeDSS},
		{"attack: certificate stream of the DSS rewritten", approval(nil), func(t *testing.T, b []byte) []byte {
			b = withDSS(t, b)
			return update(t, b, map[int]pdftest.Object{71: pdftest.StreamObj("<< >>", testpki.New().Attacker.Cert.Raw)})
		}, true, pades.ChangeDSS},
		{"attack: VRI entry rewritten", approval(nil), func(t *testing.T, b []byte) []byte {
			b = withDSS(t, b)
			return update(t, b, map[int]pdftest.Object{72: pdftest.Dict("<< /Cert [] >>")})
		}, true, pades.ChangeDSS},
		{"attack: page tree node changed beyond producer data", approval(nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{2: withEntry(t, b, 2, " /ITXT (5.5.13) /Rotate 90")})
		}, true, pades.ChangePageContent},

		// Legitimate later revisions.
		{"fill a field after an approval signature", approval(nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{22: replaceIn(t, b, 22, "/AP <</N 23 0 R>>", "/V (zgoda) /AP <</N 50 0 R>>"), 50: apStream("zgoda")})
		}, false, pades.ChangeFormFill},
		{"fill a field whose new appearance uses a font added to the form's /DR", certified(2, nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{
				1:  replaceIn(t, b, 1, "/AcroForm <<", "/AcroForm <</DR <</Font <</Helv 52 0 R>>>> "),
				22: replaceIn(t, b, 22, "/AP <</N 23 0 R>>", "/V (zgoda) /AP <</N 50 0 R>>"),
				50: pdftest.StreamObj("<< /Type /XObject /Subtype /Form /BBox [0 0 228 20] /Resources << /Font << /Helv 52 0 R >> >> >>", []byte("BT /Helv 10 Tf 2 5 Td (zgoda) Tj ET")),
				52: pdftest.Dict("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
			})
		}, false, pades.ChangeFormFill},
		{"fill a field after a DocMDP P=2 certification", certified(2, nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{22: replaceIn(t, b, 22, "/AP <</N 23 0 R>>", "/V (zgoda) /AP <</N 50 0 R>>"), 50: apStream("zgoda")})
		}, false, pades.ChangeFormFill},
		{"fill a field overwriting its own appearance stream", certified(2, nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{22: fillUwagi(t, b, ""), 23: apStream("zgoda")})
		}, false, pades.ChangeFormFill},
		{"choose another option of a combo box (/V, /I, /AP)", certified(2, nil), func(t *testing.T, b []byte) []byte {
			f := object(t, b, 24)
			f = strings.Replace(strings.Replace(strings.Replace(f, "/V (PLN)", "/V (EUR)", 1), "/I [0]", "/I [1]", 1), "/AP <</N 25 0 R>>", "/AP <</N 51 0 R>>", 1)
			return update(t, b, map[int]pdftest.Object{24: pdftest.Dict(f), 51: apStream("EUR")})
		}, false, pades.ChangeFormFill},
		{"form /NeedAppearances set", certified(2, nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{1: replaceIn(t, b, 1, "/AcroForm <<", "/AcroForm <</NeedAppearances true ")})
		}, false, pades.ChangeFormFill},
		{"XMP metadata updated", certified(2, map[int]pdftest.Object{
			1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /Metadata 40 0 R /AcroForm << /Fields [20 0 R 22 0 R 24 0 R] >> >>"),
			40: xmpStream("2026-01-01T00:00:00Z"),
		}), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{40: xmpStream("2026-02-02T00:00:00Z")})
		}, false, pades.ChangeMetadata},
		{"XMP metadata added", certified(2, nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{1: withEntry(t, b, 1, " /Metadata 40 0 R"), 40: xmpStream("2026-02-02T00:00:00Z")})
		}, false, pades.ChangeMetadata},
		{"producer-private /ITXT in the page tree root", certified(2, nil), func(t *testing.T, b []byte) []byte {
			return update(t, b, map[int]pdftest.Object{2: withEntry(t, b, 2, " /ITXT (5.5.13)")})
		}, false, pades.ChangeProducerData},
		{"validation data (DSS) added after an approval signature", approval(nil), func(t *testing.T, b []byte) []byte {
			objs := dssObjects()
			objs[1] = withEntry(t, b, 1, " /DSS 70 0 R")
			return update(t, b, objs)
		}, false, pades.ChangeDSS},
		{"validation data (DSS) added after a DocMDP P=1 certification", certified(1, nil), func(t *testing.T, b []byte) []byte {
			objs := dssObjects()
			objs[1] = withEntry(t, b, 1, " /DSS 70 0 R")
			return update(t, b, objs)
		}, false, pades.ChangeDSS},
		{"validation data (DSS) extended by a later update", approval(nil), func(t *testing.T, b []byte) []byte {
			b = withDSS(t, b)
			return update(t, b, map[int]pdftest.Object{
				70: replaceIn(t, b, 70, "/Certs [71 0 R]", "/Certs [71 0 R 73 0 R]"),
				73: pdftest.StreamObj("<< >>", testpki.New().EC256.Cert.Raw),
			})
		}, false, pades.ChangeDSS},
		{"empty signature field signed, overwriting its own appearance",
			approval(map[int]pdftest.Object{
				1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [20 0 R 22 0 R 24 0 R 28 0 R] /SigFlags 3 >> >>"),
				4:  pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [20 0 R 22 0 R 24 0 R 28 0 R] >>"),
				28: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Pusty) /F 132 /Rect [300 100 500 150] /P 4 0 R /AP << /N 29 0 R >> >>"),
				29: apStream(""),
			}),
			func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{
					28: replaceIn(t, b, 28, "/T (Pusty)", "/T (Pusty) /V 61 0 R"),
					61: pdftest.Dict("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <00> >>"),
					29: apStream("Podpisano"),
				})
			}, false, pades.ChangeSignature},
		{"second signature extending an indirect /Fields array",
			approval(map[int]pdftest.Object{
				1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 27 0 R >> >>"),
				27: pdftest.Dict("[20 0 R 22 0 R 24 0 R]"),
			}),
			func(t *testing.T, b []byte) []byte { return sign(t, b, opts(p.EC256)) }, false, pades.ChangeSignature},
		{"fill a field of a group (/Kids widget, value on the parent)",
			approval(map[int]pdftest.Object{
				1:  pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [20 0 R 22 0 R 24 0 R 30 0 R] >> >>"),
				4:  pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [20 0 R 22 0 R 24 0 R 32 0 R] >>"),
				30: pdftest.Dict("<< /T (dane) /Kids [31 0 R] >>"),
				31: pdftest.Dict("<< /FT /Tx /T (imie) /Parent 30 0 R /Kids [32 0 R] >>"),
				32: pdftest.Dict("<< /Type /Annot /Subtype /Widget /Parent 31 0 R /Rect [72 480 300 500] /P 4 0 R /AP << /N 33 0 R >> >>"),
				33: apStream(""),
			}),
			func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{31: replaceIn(t, b, 31, "/T (imie)", "/T (imie) /V (ANNA)"), 33: apStream("ANNA")})
			}, false, pades.ChangeFormFill},
		{"second signature after the page's /Annots was made indirect (DocMDP P=2)", certified(2, nil),
			func(t *testing.T, b []byte) []byte {
				_, w := sigObjects(t, b)
				b = update(t, b, map[int]pdftest.Object{
					4:  replaceIn(t, b, 4, fmt.Sprintf("/Annots [20 0 R 22 0 R 24 0 R %d 0 R]", w), "/Annots 80 0 R"),
					80: pdftest.Dict(fmt.Sprintf("[20 0 R 22 0 R 24 0 R %d 0 R]", w)),
				})
				return sign(t, b, opts(p.EC256))
			}, false, pades.ChangeSignature},
		{"form moved to a new object, same fields (DocMDP P=1)", certified(1, nil), func(t *testing.T, b []byte) []byte {
			cat := object(t, b, 1)
			i := strings.Index(cat, "/AcroForm <<")
			j := strings.Index(cat[i:], ">>") + i + 2
			return update(t, b, map[int]pdftest.Object{
				1:  pdftest.Dict(cat[:i] + "/AcroForm 81 0 R" + cat[j:]),
				81: pdftest.Dict(cat[i+len("/AcroForm ") : j]),
			})
		}, false, ""},
		{"attack: second field named like a filled one, drawn by the viewer (/NeedAppearances), after a DocMDP P=1 certification",
			certified(1, nil), func(t *testing.T, b []byte) []byte {
				return update(t, b, map[int]pdftest.Object{
					1:  pdftest.Dict(strings.Replace(strings.Replace(object(t, b, 1), "/AcroForm <<", "/AcroForm <</NeedAppearances true ", 1), "/Fields [20 0 R", "/Fields [30 0 R 20 0 R", 1)),
					4:  replaceIn(t, b, 4, "/Annots [20 0 R", "/Annots [30 0 R 20 0 R"),
					30: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Tx /T (kwota) /V (1000000 PLN) /Rect [72 600 300 620] /P 4 0 R >>"),
				})
			}, true, pades.ChangeAnnotation},
		{"second signature after an approval signature", approval(nil), func(t *testing.T, b []byte) []byte {
			return sign(t, b, opts(p.EC256))
		}, false, pades.ChangeSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.after(t, c.signed(t))
			res := verifyBytes(t, b)
			if len(res.Signatures) == 0 {
				t.Fatal("no signature")
			}
			s := res.Signatures[0]
			if why := intact(s); why != "" {
				t.Fatalf("first signature not intact: %s", why)
			}
			for _, ch := range s.Changes {
				t.Logf("%+v", ch)
			}
			if s.Modified != c.modified {
				t.Errorf("modified %v, want %v", s.Modified, c.modified)
			}
			found := c.kind == "" && len(s.Changes) == 0 // a revision that changes nothing of substance
			for _, ch := range s.Changes {
				found = found || (ch.Kind == c.kind && ch.Allowed == !c.modified)
			}
			if !found {
				t.Errorf("no %s change with allowed=%v", c.kind, !c.modified)
			}
			oneVerdictPerObject(t, s.Changes)
		})
	}
}

var objectDetail = regexp.MustCompile(`object (\d+):`)

// oneVerdictPerObject checks that no object of a revision is reported both as an allowed and as a refused change.
func oneVerdictPerObject(t *testing.T, changes []pades.Change) {
	t.Helper()
	type key struct {
		rev int
		obj string
	}
	seen := map[key]bool{}
	for _, ch := range changes {
		for _, m := range objectDetail.FindAllStringSubmatch(ch.Detail, -1) {
			k := key{ch.Revision, m[1]}
			if allowed, ok := seen[k]; ok && allowed != ch.Allowed {
				t.Errorf("object %s of revision %d judged both allowed and refused: %+v", m[1], ch.Revision, changes)
			}
			seen[k] = ch.Allowed
		}
	}
}

// manyShared adds n empty text fields (objects 100...) whose widgets all show appearance stream 21, the filled
// field's.
func manyShared(n int) map[int]pdftest.Object {
	fields, annots := "[20 0 R 22 0 R 24 0 R", "[20 0 R 22 0 R 24 0 R"
	objs := map[int]pdftest.Object{}
	for i := 0; i < n; i++ {
		objs[100+i] = pdftest.Dict(fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Tx /T (pole%d) /Rect [0 0 10 10] /P 4 0 R /AP << /N 21 0 R >> >>", i))
		fields += fmt.Sprintf(" %d 0 R", 100+i)
		annots += fmt.Sprintf(" %d 0 R", 100+i)
	}
	objs[1] = pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields " + fields + "] >> >>")
	objs[4] = pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots " + annots + "] >>")
	return objs
}

// TestChangeRulesDSSShapes: validation data added later must have the DSS's shape (pyHanko's bogus DSS values);
// anything else is a refused dss change.
func TestChangeRulesDSSShapes(t *testing.T) {
	hex40 := strings.Repeat("AB12", 10)
	signed := sign(t, changeForm(nil), opts(testpki.New().RSA))
	for _, tc := range []struct{ name, dss string }{
		{"a string", "(Hi there)"},
		{"an unknown key", "<< /Blah null >>"},
		{"/Certs null", "<< /Certs null >>"},
		{"/Certs holding a direct object", "<< /Certs [(not a stream)] >>"},
		{"/Certs naming a dictionary", "<< /Certs [1 0 R] >>"},
		{"/VRI null", "<< /VRI null >>"},
		{"/VRI key not a hash", "<< /VRI << /Bleh null >> >>"},
		{"/VRI entry null", "<< /VRI << /" + hex40 + " null >> >>"},
		{"/VRI entry with an unknown key", "<< /VRI << /" + hex40 + " << /Bleh null >> >> >>"},
		{"/VRI entry /OCSP null", "<< /VRI << /" + hex40 + " << /OCSP null >> >> >>"},
		{"/Type other than /DSS", "<< /Type /Catalog >>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := update(t, signed, map[int]pdftest.Object{1: withEntry(t, signed, 1, " /DSS 70 0 R"), 70: pdftest.Dict(tc.dss)})
			s := verifyBytes(t, b).Signatures[0]
			refused := false
			for _, ch := range s.Changes {
				refused = refused || (ch.Kind == pades.ChangeDSS && !ch.Allowed)
			}
			if !s.Modified || !refused {
				t.Errorf("modified %v, changes %+v", s.Modified, s.Changes)
			}
		})
	}
}

// withDSS appends an update adding validation data (objects 70-72) to a signed file.
func withDSS(t *testing.T, b []byte) []byte {
	t.Helper()
	objs := dssObjects()
	objs[1] = withEntry(t, b, 1, " /DSS 70 0 R")
	return update(t, b, objs)
}
