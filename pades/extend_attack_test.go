package pades_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

// changesOf returns the changes the first signature of b reports, by revision.
func firstChanges(t *testing.T, b []byte) (*pades.Signature, map[int][]pades.Change) {
	t.Helper()
	s := verifyBytes(t, b).Signatures[0]
	out := map[int][]pades.Change{}
	for _, c := range s.Changes {
		out[c.Revision] = append(out[c.Revision], c)
	}
	return s, out
}

// TestAttackDSSRevisionModifiesPage: a revision that adds validation data (a DSS) and also rewrites the page's
// content is caught: the signature is modified, the file fails, and Extend refuses it.
func TestAttackDSSRevisionModifiesPage(t *testing.T) {
	p := testpki.New()
	b := signBT(t, simplePDF(1, ""), p.RSA)
	objs := dssObjects()
	objs[1] = withEntry(t, b, 1, " /DSS 70 0 R")
	objs[5] = streamObj("BT /F1 24 Tf 72 720 Td (Wniosek: 900 PLN - page 1) Tj ET")
	bad := update(t, b, objs)
	s, changes := firstChanges(t, bad)
	if !s.Modified {
		t.Fatalf("not modified: %+v", s.Changes)
	}
	var kinds []string
	for _, c := range changes[3] {
		kinds = append(kinds, fmt.Sprintf("%s/%v", c.Kind, c.Allowed))
	}
	if got := strings.Join(kinds, " "); !strings.Contains(got, "dss/true") || !strings.Contains(got, "page-content/false") {
		t.Fatalf("revision 3: %s", got)
	}
	if rep := report(t, bad); rep.Indication != verify.TotalFailed {
		t.Fatalf("%s", rep.Indication)
	}
	var out bytes.Buffer
	if err := pades.Extend(context.Background(), bytes.NewReader(bad), int64(len(bad)), &out, extendOpts(t, "b-lta", &testSource{p: p})); !errors.Is(err, pades.ErrNotIntact) {
		t.Fatalf("Extend = %v, want ErrNotIntact", err)
	}
	// The same DSS without the page change is validation data, allowed.
	delete(objs, 5)
	if s, _ := firstChanges(t, update(t, b, objs)); s.Modified {
		t.Fatalf("DSS alone: %+v", s.Changes)
	}
}

// TestAttackDocTimeStampRevisionCarriesMore: a revision adding a document time-stamp is allowed only with its
// field; an annotation riding along in the same revision is refused (alone, it would be an allowed change).
func TestAttackDocTimeStampRevisionCarriesMore(t *testing.T) {
	p := testpki.New()
	b := sign(t, simplePDF(1, ""), opts(p.RSA))
	r, err := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	cat, _, _ := r.Latest().Catalog()
	afRef := cat["AcroForm"].(pdf.Ref)
	af := object(t, b, int(afRef.Num))
	fields := regexp.MustCompile(`/Fields \[([^\]]*)\]`).FindStringSubmatch(af)
	page := object(t, b, 4)
	annots := regexp.MustCompile(`/Annots \[([^\]]*)\]`).FindStringSubmatch(page)
	if fields == nil || annots == nil {
		t.Fatalf("AcroForm %s, page %s", af, page)
	}
	build := func(extraAnnot bool) []byte {
		objs := map[int]pdftest.Object{
			80: pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Sig /T (DocTimeStamp1) /V 81 0 R /F 132 /Rect [0 0 0 0] /P 4 0 R >>"),
			81: pdftest.Dict("<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange [0 0 0 0] /Contents <00> >>"),
		}
		objs[int(afRef.Num)] = pdftest.Dict(strings.Replace(af, fields[0], "/Fields ["+fields[1]+" 80 0 R]", 1))
		list := annots[1] + " 80 0 R"
		if extraAnnot {
			objs[82] = pdftest.Dict("<< /Type /Annot /Subtype /Text /Rect [100 100 120 120] /Contents (Zaplacono) >>")
			list += " 82 0 R"
		}
		objs[4] = pdftest.Dict(strings.Replace(page, annots[0], "/Annots ["+list+"]", 1))
		return update(t, b, objs)
	}
	s, changes := firstChanges(t, build(false))
	if s.Modified || len(changes[3]) != 1 || changes[3][0].Kind != pades.ChangeDocumentTimeStamp || !changes[3][0].Allowed {
		t.Fatalf("document time-stamp alone: %+v", s.Changes)
	}
	s, changes = firstChanges(t, build(true))
	if !s.Modified {
		t.Fatalf("an annotation in the document time-stamp's revision is allowed: %+v", s.Changes)
	}
	refused := false
	for _, c := range changes[3] {
		refused = refused || (c.Kind == pades.ChangeAnnotation && !c.Allowed)
	}
	if !refused {
		t.Fatalf("revision 3: %+v", changes[3])
	}
}

// TestAttackDocTimeStampForged: a document time-stamp whose ByteRange does not reach the end of the file (of its
// revision), or whose token comes from another file, proves nothing: it fails, and the signature before it gets
// neither B-T nor B-LTA from it.
func TestAttackDocTimeStampForged(t *testing.T) {
	p := testpki.New()
	src := &testSource{p: p}
	bb := sign(t, simplePDF(1, ""), opts(p.RSA))
	lta := extend(t, bb, extendOpts(t, "b-lta", src))
	other := extend(t, sign(t, simplePDF(2, ""), opts(p.RSA)), extendOpts(t, "b-lta", src))
	lastTS := func(b []byte) *pades.Signature {
		ds := docTimeStamps(verifyBytes(t, b))
		return ds[len(ds)-1]
	}
	for _, tc := range []struct {
		name string
		file func() []byte
	}{
		{"ByteRange short of the end of the file", func() []byte {
			s := lastTS(lta)
			br := s.ByteRange
			old := fmt.Sprintf("[0 %d %d %d]", br[1], br[2], br[3])
			short := fmt.Sprintf("[0 %d %d %d]", br[1], br[2], br[3]-40)
			short += strings.Repeat(" ", len(old)-len(short))
			return bytes.Replace(lta, []byte(old), []byte(short), 1)
		}},
		{"token transplanted from another file", func() []byte {
			mine, theirs := lastTS(lta), lastTS(other)
			out := bytes.Clone(lta)
			src := other[theirs.ByteRange[1]:theirs.ByteRange[2]]
			if len(src) != int(mine.ByteRange[2]-mine.ByteRange[1]) {
				t.Fatal("reserved sizes differ")
			}
			copy(out[mine.ByteRange[1]:], src)
			return out
		}},
		{"bytes after the archive time-stamp changed", func() []byte {
			// the last document time-stamp's widget name, inside its own revision
			return bytes.Replace(lta, []byte("(DocTimeStamp2)"), []byte("(DocTimeStampX)"), 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := report(t, tc.file())
			if rep.Indication == verify.TotalPassed {
				t.Fatalf("forged file passes")
			}
			last := rep.Signatures[len(rep.Signatures)-1]
			if last.Indication == verify.TotalPassed {
				t.Fatalf("forged document time-stamp passes: %+v", last.TimeStamps)
			}
			if lvl := rep.Signatures[0].Level; lvl == "PAdES-B-LTA" {
				t.Fatalf("signature level %s from a forged archive time-stamp", lvl)
			}
		})
	}
}

// TestExtendLevelAfterDSSUpdate: a DSS update after the archive time-stamp (the first half of a renewal) leaves
// the signature B-LTA (its own validation data is still covered), while data for the signature added only after
// the last document time-stamp gives B-LT.
func TestExtendLevelAfterDSSUpdate(t *testing.T) {
	p := testpki.New()
	src := &testSource{p: p}
	lta := extend(t, signBT(t, simplePDF(1, ""), p.RSA), extendOpts(t, "b-lta", src))
	half := extend(t, lta, extendOpts(t, "b-lt", src))
	if len(verifyBytes(t, half).Revisions) != len(verifyBytes(t, lta).Revisions)+1 {
		t.Fatal("b-lt after b-lta added no DSS revision")
	}
	if rep := report(t, half); rep.Signatures[0].Level != "PAdES-B-LTA" {
		t.Fatalf("after a DSS update: level %q", rep.Signatures[0].Level)
	}
	// B-T, then a document time-stamp, then the DSS: the data is newer than every time-stamp.
	bt := signBT(t, simplePDF(1, ""), p.RSA)
	stamped := extend(t, bt, pades.ExtendOptions{Level: "b-t", TimeStamp: stamper(t)})
	if !bytes.Equal(stamped, bt) {
		t.Fatal("b-t on B-T added something")
	}
	lt := extend(t, bt, extendOpts(t, "b-lt", src))
	rep := report(t, lt)
	if rep.Signatures[0].Level != "PAdES-B-LT" || rep.Indication != verify.TotalPassed {
		t.Fatalf("b-lt: %s level %q", rep.Indication, rep.Signatures[0].Level)
	}
}

// TestAttackHugeDSS: a DSS revision naming the same stream 50,000 times is refused quickly (more than
// MaxDSSEntries entries) and not read into memory; Extend refuses the file.
func TestAttackHugeDSS(t *testing.T) {
	p := testpki.New()
	b := signBT(t, simplePDF(1, ""), p.RSA)
	objs := dssObjects()
	refs := strings.Repeat("71 0 R ", 50000)
	objs[70] = pdftest.Dict("<< /Type /DSS /Certs [" + refs + "] /OCSPs [" + refs + "] >>")
	objs[1] = withEntry(t, b, 1, " /DSS 70 0 R")
	bad := update(t, b, objs)
	start := time.Now()
	res := verifyBytes(t, bad)
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("verification took %v", d)
	}
	if !res.Signatures[0].Modified || res.DSS == nil || len(res.DSS.Problems) == 0 || len(res.DSS.Data.Certificates) != 0 {
		t.Fatalf("modified %v, DSS %+v", res.Signatures[0].Modified, res.DSS)
	}
	var out bytes.Buffer
	if err := pades.Extend(context.Background(), bytes.NewReader(bad), int64(len(bad)), &out, extendOpts(t, "b-lta", &testSource{p: p})); err == nil {
		t.Fatal("Extend accepts a DSS of 50,000 entries")
	}
}

// TestAttackExtendDamagedTimeStamp: a B-T signature whose time-stamp token was damaged (the CMS signature does not
// cover it) is not extended: an archive time-stamp would seal a broken proof of existence.
func TestAttackExtendDamagedTimeStamp(t *testing.T) {
	p := testpki.New()
	b := signBT(t, simplePDF(1, ""), p.RSA)
	s := verifyBytes(t, b).Signatures[0]
	i := int(s.ByteRange[1]) + 1 + 2*(len(s.CMS.Raw)-40) // a hex digit of the token's signature value
	bad := bytes.Clone(b)
	if bad[i] == '0' {
		bad[i] = '1'
	} else {
		bad[i] = '0'
	}
	var out bytes.Buffer
	err := pades.Extend(context.Background(), bytes.NewReader(bad), int64(len(bad)), &out, extendOpts(t, "b-lta", &testSource{p: p}))
	if !errors.Is(err, pades.ErrNotIntact) {
		t.Fatalf("Extend = %v, want ErrNotIntact", err)
	}
}
