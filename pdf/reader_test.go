package pdf_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

func open(t testing.TB, b []byte, lim *pdf.Limits) (*pdf.Reader, error) {
	t.Helper()
	return pdf.Open(bytes.NewReader(b), int64(len(b)), lim)
}

func mustOpen(t testing.TB, b []byte) *pdf.Reader {
	t.Helper()
	r, err := open(t, b, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

func contentText(t *testing.T, v pdf.View, p pdf.Page) string {
	t.Helper()
	c, err := v.Resolve(p.Dict["Contents"])
	if err != nil {
		t.Fatalf("contents: %v", err)
	}
	s, ok := c.(*pdf.Stream)
	if !ok {
		t.Fatalf("contents is %T", c)
	}
	b, err := v.Reader().DecodeStream(s, v)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return string(b)
}

func withCompressed(objs map[int]pdftest.Object, nums ...int) map[int]pdftest.Object {
	for _, n := range nums {
		o := objs[n]
		o.Compress = true
		objs[n] = o
	}
	return objs
}

func TestOpenShapes(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		kind pdf.XrefKind
	}{
		{"classic table", pdftest.Build(pdftest.Simple(2, "Hello"), 1, pdftest.Options{}), pdf.XrefTable},
		{"xref stream", pdftest.Build(pdftest.Simple(2, "Hello"), 1, pdftest.Options{XrefStream: true}), pdf.XrefStream},
		{"xref stream with object stream", pdftest.Build(withCompressed(pdftest.Simple(2, "Hello"), 1, 2, 3, 4, 6), 1, pdftest.Options{XrefStream: true}), pdf.XrefStream},
		{"hybrid", pdftest.Build(withCompressed(pdftest.Simple(2, "Hello"), 1, 2, 4), 1, pdftest.Options{Hybrid: true}), pdf.XrefTable},
		{"no final EOL", bytes.TrimRight(pdftest.Build(pdftest.Simple(2, "Hello"), 1, pdftest.Options{}), "\n"), pdf.XrefTable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustOpen(t, tc.file)
			if _, k := r.LastXref(); k != tc.kind {
				t.Errorf("kind %v, want %v", k, tc.kind)
			}
			revs := r.Revisions()
			if len(revs) != 1 || revs[0].End != int64(len(tc.file)) || revs[0].Start != 0 {
				t.Fatalf("revisions %+v, size %d", revs, len(tc.file))
			}
			v := r.Latest()
			pages, err := v.Pages()
			if err != nil || len(pages) != 2 {
				t.Fatalf("pages %d, %v", len(pages), err)
			}
			if got := contentText(t, v, pages[1]); !strings.Contains(got, "Hello - page 2") {
				t.Errorf("page 2 content %q", got)
			}
			if pages[0].MediaBox != [4]float64{0, 0, 595, 842} {
				t.Errorf("media box %v", pages[0].MediaBox)
			}
		})
	}
}

func TestRevisions(t *testing.T) {
	for _, xs := range []bool{false, true} {
		t.Run(fmt.Sprintf("xrefstream=%v", xs), func(t *testing.T) {
			o := pdftest.Options{XrefStream: xs}
			objs := pdftest.Simple(1, "Original")
			if xs {
				objs = withCompressed(objs, 1, 2, 3, 4)
			}
			v1 := pdftest.Build(objs, 1, o)
			v2 := pdftest.Append(v1, map[int]pdftest.Object{5: pdftest.StreamObj("<< >>", []byte("BT /F1 24 Tf 72 720 Td (Changed) Tj ET"))}, 1, o)
			v3 := pdftest.Append(v2, map[int]pdftest.Object{20: pdftest.Dict("<< /Hello (world) >>")}, 1, o)
			r := mustOpen(t, v3)
			revs := r.Revisions()
			if len(revs) != 3 {
				t.Fatalf("%d revisions", len(revs))
			}
			wantEnds := []int64{int64(len(v1)), int64(len(v2)), int64(len(v3))}
			for i, rv := range revs {
				if rv.End != wantEnds[i] || rv.Number != i+1 {
					t.Errorf("revision %d: end %d, want %d", rv.Number, rv.End, wantEnds[i])
				}
			}
			if got := revs[1].ObjectNumbers(); len(got) == 0 || got[len(got)-1] < 5 {
				t.Errorf("revision 2 objects %v", got)
			}
			for rev, want := range map[int]string{1: "Original", 2: "Changed", 3: "Changed"} {
				v := r.At(rev)
				pages, err := v.Pages()
				if err != nil {
					t.Fatal(err)
				}
				if got := contentText(t, v, pages[0]); !strings.Contains(got, want) {
					t.Errorf("revision %d content %q, want %q", rev, got, want)
				}
			}
			if o, _ := r.At(2).Get(pdf.Ref{Num: 20}); o != nil {
				t.Errorf("object 20 visible before it was added: %v", o)
			}
			if o, _ := r.Latest().Get(pdf.Ref{Num: 20}); o == nil {
				t.Errorf("object 20 missing in revision 3")
			}
			if r.NextObjectNumber() < 21 {
				t.Errorf("next object number %d", r.NextObjectNumber())
			}
		})
	}
}

// TestLinearized: a /Prev pointing forward (first-page section to main section) stays one revision.
func TestLinearized(t *testing.T) {
	// Build the "main" part first, then prepend a first-page section that points to it. Easiest with a real file.
	b, err := os.ReadFile("../../shared/corpus/pdf/dss-DSS-2025.pdf")
	if err != nil {
		t.Skip("corpus not available")
	}
	r := mustOpen(t, b)
	revs := r.Revisions()
	if len(revs) != 3 || len(revs[0].XrefOffsets) != 2 {
		t.Fatalf("revisions: %d, first has %d sections", len(revs), len(revs[0].XrefOffsets))
	}
}

func TestCorpusOpens(t *testing.T) {
	files, _ := filepath.Glob("../../shared/corpus/pdf/*.pdf")
	if len(files) == 0 {
		t.Skip("corpus not available")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, _ := os.ReadFile(f)
			r, err := open(t, b, nil)
			if strings.Contains(f, "corrupted") {
				if err == nil {
					t.Log("corrupted file opens")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Latest().Pages(); err != nil {
				t.Fatal(err)
			}
			last := r.Revisions()[len(r.Revisions())-1]
			if last.End != int64(len(b)) {
				t.Errorf("last revision ends at %d of %d", last.End, len(b))
			}
		})
	}
}

// TestHardening: each parser-abuse class from attacks.md is a crafted file that must be rejected quickly with
// ErrLimit or ErrMalformed (never a panic, a hang or unbounded memory).
func TestHardening(t *testing.T) {
	simple := func() map[int]pdftest.Object { return pdftest.Simple(1, "x") }
	bomb := pdftest.Deflate(make([]byte, 8<<20))
	nest := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	selfLoop := func() []byte {
		b := pdftest.Build(simple(), 1, pdftest.Options{})
		start := pdftest.LastStartXref(b)
		// Point /Prev at the section itself.
		return bytes.Replace(b, []byte("/Root 1 0 R"), []byte(fmt.Sprintf("/Root 1 0 R /Prev %d", start)), 1)
	}
	twoLoop := func() []byte {
		var b bytes.Buffer
		b.WriteString("%PDF-1.7\n")
		o1 := b.Len()
		b.WriteString("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
		o2 := b.Len()
		b.WriteString("2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n")
		a := b.Len()
		fmt.Fprintf(&b, "xref\n0 3\n0000000000 65535 f\r\n%010d 00000 n\r\n%010d 00000 n\r\ntrailer\n<< /Size 3 /Root 1 0 R /Prev PREVB____ >>\n", o1, o2)
		bOff := b.Len()
		fmt.Fprintf(&b, "xref\n0 1\n0000000000 65535 f\r\ntrailer\n<< /Size 3 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", a, bOff)
		return bytes.Replace(b.Bytes(), []byte("PREVB____"), []byte(fmt.Sprintf("%09d", bOff)), 1)
	}
	tests := []struct {
		name  string
		file  func() []byte
		lim   *pdf.Limits
		want  error
		probe func(*pdf.Reader) error
	}{
		{"not a PDF", func() []byte { return []byte("hello world") }, nil, pdf.ErrNotPDF, nil},
		{"no startxref", func() []byte { return []byte("%PDF-1.7\n1 0 obj << >> endobj\n") }, nil, pdf.ErrMalformed, nil},
		{"startxref beyond the file", func() []byte { return []byte("%PDF-1.7\nstartxref\n999999\n%%EOF\n") }, nil, pdf.ErrMalformed, nil},
		{"xref /Prev to itself", selfLoop, nil, pdf.ErrMalformed, nil},
		{"xref /Prev loop of two sections", twoLoop, nil, pdf.ErrMalformed, nil},
		{"huge object numbers in an xref subsection", func() []byte {
			b := pdftest.Build(simple(), 1, pdftest.Options{})
			return bytes.Replace(b, []byte("xref\n0 1\n"), []byte("xref\n4294967290 1\n"), 1)
		}, nil, pdf.ErrLimit, nil},
		{"xref subsection count larger than the file", func() []byte {
			b := pdftest.Build(simple(), 1, pdftest.Options{})
			return bytes.Replace(b, []byte("xref\n0 1\n"), []byte("xref\n0 9999999\n"), 1)
		}, nil, pdf.ErrLimit, nil},
		{"xref stream /Index beyond the object limit", func() []byte {
			b := pdftest.Build(simple(), 1, pdftest.Options{XrefStream: true})
			return bytes.Replace(b, []byte("/Index [0 "), []byte("/Index [9999999 "), 1)
		}, nil, pdf.ErrLimit, nil},
		{"deflate bomb in an object stream", func() []byte {
			objs := simple()
			objs[1] = pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /Bomb 30 0 R >>")
			objs[30] = pdftest.StreamObj("<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>", bomb)
			objs[31] = pdftest.Dict("(in the bomb)")
			b := pdftest.Build(objs, 1, pdftest.Options{XrefStream: true})
			return b
		}, &pdf.Limits{MaxDecoded: 1 << 20}, pdf.ErrLimit, func(r *pdf.Reader) error {
			// Make object 32 a compressed object inside the bomb: craft via the probe by decoding the stream.
			o, err := r.Latest().Get(pdf.Ref{Num: 30})
			if err != nil {
				return err
			}
			_, err = r.DecodeStream(o.(*pdf.Stream), r.Latest())
			return err
		}},
		{"deflate bomb as the xref stream", func() []byte {
			var b bytes.Buffer
			b.WriteString("%PDF-1.7\n")
			off := b.Len()
			fmt.Fprintf(&b, "1 0 obj\n<< /Type /XRef /Size 2 /W [1 4 2] /Filter /FlateDecode /Length %d >>\nstream\n", len(bomb))
			b.Write(bomb)
			fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", off)
			return b.Bytes()
		}, &pdf.Limits{MaxDecoded: 1 << 20}, pdf.ErrLimit, nil},
		{"object stream cycle", objstmCycleFile, nil, pdf.ErrMalformed, func(r *pdf.Reader) error {
			_, err := r.Latest().Get(pdf.Ref{Num: 9})
			return err
		}},
		{"deep nesting", func() []byte {
			objs := simple()
			objs[1] = pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /Deep 30 0 R >>")
			objs[30] = pdftest.Dict(nest)
			return pdftest.Build(objs, 1, pdftest.Options{})
		}, nil, pdf.ErrLimit, func(r *pdf.Reader) error {
			_, err := r.Latest().Get(pdf.Ref{Num: 30})
			return err
		}},
		{"duplicate key", func() []byte {
			objs := simple()
			objs[1] = pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /Pages 3 0 R >>")
			return pdftest.Build(objs, 1, pdftest.Options{})
		}, nil, pdf.ErrDuplicateKey, func(r *pdf.Reader) error {
			_, _, err := r.Latest().Catalog()
			return err
		}},
		{"string longer than the limit", func() []byte {
			objs := simple()
			objs[30] = pdftest.Dict("<" + strings.Repeat("41", 5000) + ">")
			return pdftest.Build(objs, 1, pdftest.Options{})
		}, &pdf.Limits{MaxStringLen: 1000}, pdf.ErrLimit, func(r *pdf.Reader) error {
			_, err := r.Latest().Get(pdf.Ref{Num: 30})
			return err
		}},
		{"page tree cycle", func() []byte {
			objs := simple()
			objs[2] = pdftest.Dict("<< /Type /Pages /Kids [4 0 R 2 0 R] /Count 2 >>")
			return pdftest.Build(objs, 1, pdftest.Options{})
		}, nil, pdf.ErrMalformed, func(r *pdf.Reader) error {
			_, err := r.Latest().Pages()
			return err
		}},
		{"object load budget", func() []byte {
			objs := simple()
			return pdftest.Build(objs, 1, pdftest.Options{})
		}, &pdf.Limits{MaxObjectLoads: 2}, pdf.ErrLimit, func(r *pdf.Reader) error {
			_, err := r.Latest().Pages()
			return err
		}},
		{"xref pointing to the wrong object", func() []byte {
			b := pdftest.Build(simple(), 1, pdftest.Options{})
			return bytes.Replace(b, []byte("1 0 obj"), []byte("9 0 obj"), 1)
		}, nil, pdf.ErrMalformed, func(r *pdf.Reader) error {
			_, _, err := r.Latest().Catalog()
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			b := tc.file()
			r, err := open(t, b, tc.lim)
			if err == nil && tc.probe != nil {
				err = tc.probe(r)
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			t.Logf("took %v", time.Since(start)) // the limit shows in the error above; speed is a benchmark's business
		})
	}
}

// objstmCycleFile builds a file whose object stream 8 is listed as compressed inside itself, and whose object 9
// lives in object stream 8.
func objstmCycleFile() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	o1 := b.Len()
	b.WriteString("1 0 obj\n<< /Type /Catalog /Pages 2 0 R /X 9 0 R >>\nendobj\n")
	o2 := b.Len()
	b.WriteString("2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n")
	xo := b.Len()
	rows := []byte{}
	row := func(typ byte, f2 int, f3 int) {
		rows = append(rows, typ, byte(f2>>24), byte(f2>>16), byte(f2>>8), byte(f2), byte(f3>>8), byte(f3))
	}
	row(0, 0, 0xffff)
	row(1, o1, 0)
	row(1, o2, 0)
	for i := 3; i < 8; i++ {
		row(0, 0, 0)
	}
	row(2, 8, 0) // object 8: inside object stream 8
	row(2, 8, 0) // object 9: inside object stream 8
	row(1, xo, 0)
	fmt.Fprintf(&b, "10 0 obj\n<< /Type /XRef /Size 11 /Root 1 0 R /W [1 4 2] /Length %d >>\nstream\n", len(rows))
	b.Write(rows)
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xo)
	return b.Bytes()
}

func TestUpdateWriter(t *testing.T) {
	for _, xs := range []bool{false, true} {
		t.Run(fmt.Sprintf("xrefstream=%v", xs), func(t *testing.T) {
			orig := pdftest.Build(withCompressed(pdftest.Simple(1, "x"), 1, 2, 3), 1, pdftest.Options{XrefStream: xs})
			r := mustOpen(t, orig)
			u := pdf.NewUpdate(r)
			ref := u.Add(pdf.Dict{"Type": pdf.Name("Test"), "S": pdf.TextString("zażółć gęślą jaźń")})
			st := u.Add(&pdf.Stream{Dict: pdf.Dict{}, Raw: []byte("raw data")})
			cat, catRef, _ := r.Latest().Catalog()
			c := cat.Clone()
			c["Test"] = ref
			c["St"] = st
			u.Set(catRef, c)
			w, err := u.Bytes(int64(len(orig)), r.Trailer(), false)
			if err != nil {
				t.Fatal(err)
			}
			out := append(append([]byte{}, orig...), w.Bytes...)
			r2 := mustOpen(t, out)
			if _, k := r2.LastXref(); k != map[bool]pdf.XrefKind{false: pdf.XrefTable, true: pdf.XrefStream}[xs] {
				t.Errorf("update xref kind %v", k)
			}
			if len(r2.Revisions()) != 2 {
				t.Fatalf("%d revisions", len(r2.Revisions()))
			}
			cat2, _, err := r2.Latest().Catalog()
			if err != nil {
				t.Fatal(err)
			}
			d, _ := r2.Latest().Dict(cat2["Test"])
			if got := pdf.Text(d["S"]); got != "zażółć gęślą jaźń" {
				t.Errorf("text %q", got)
			}
			s, _ := r2.Latest().Resolve(cat2["St"])
			raw, _ := r2.RawStream(s.(*pdf.Stream), 0)
			if string(raw) != "raw data" {
				t.Errorf("stream %q", raw)
			}
			if p, _ := r2.Latest().Pages(); len(p) != 1 {
				t.Errorf("pages %d", len(p))
			}
		})
	}
}

func TestDates(t *testing.T) {
	loc := time.FixedZone("", 3600)
	tm := time.Date(2026, 3, 4, 5, 6, 7, 0, loc)
	s := pdf.FormatDate(tm)
	if s != "D:20260304050607+01'00'" {
		t.Errorf("format %q", s)
	}
	for _, in := range []string{s, "D:20260304040607Z", "D:20260304040607", "D:20260304040607Z00'00'", "D:20260304050607+01'00"} {
		got, err := pdf.ParseDate(in)
		if err != nil || !got.Equal(tm) {
			t.Errorf("ParseDate(%q) = %v, %v", in, got, err)
		}
	}
	if got, err := pdf.ParseDate("D:2026"); err != nil || got.Month() != 1 {
		t.Errorf("short date: %v %v", got, err)
	}
	for _, bad := range []string{"", "D:20261304", "D:2026030405060X", "yesterday"} {
		if _, err := pdf.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
}

func TestTextStrings(t *testing.T) {
	for _, s := range []string{"ASCII only", "Podpis zaufany; imię: ANNA; nazwisko: TESTOWA-ŻÓŁĆ", ""} {
		ts := pdf.TextString(s)
		if got := pdf.DecodeText(ts.Value); got != s {
			t.Errorf("round trip %q -> %q", s, got)
		}
		b := pdf.AppendObject(nil, ts)
		o, err := pdf.ParseObject(b)
		if err != nil || pdf.Text(o) != s {
			t.Errorf("serialized round trip %q: %v %v", s, o, err)
		}
	}
	if got := pdf.DecodeText([]byte{0x8D, 0x41}); got != "“A" {
		t.Errorf("PDFDocEncoding: %q", got)
	}
}

func TestParseObject(t *testing.T) {
	tests := []struct {
		in   string
		want pdf.Object
	}{
		{"<< /A 1 /B [2 0 R (x\\)y) <414>] /C /N#20x /D 1.5 /E -.5 /F true /G null >>",
			pdf.Dict{"A": pdf.Integer(1), "B": pdf.Array{pdf.Ref{Num: 2}, pdf.String{Value: []byte("x)y")}, pdf.String{Value: []byte{0x41, 0x40}}},
				"C": pdf.Name("N x"), "D": pdf.Real(1.5), "E": pdf.Real(-0.5), "F": pdf.Bool(true)}},
		{"(a\\101\\\nb(c)d)", pdf.String{Value: []byte("aAb(c)d")}},
		{"[1 2 R 3]", pdf.Array{pdf.Ref{Num: 1, Gen: 2}, pdf.Integer(3)}},
		{"[/A R]", nil},
	}
	for _, tc := range tests {
		got, err := pdf.ParseObject([]byte(tc.in))
		if tc.in == "[/A R]" {
			// "R" alone is not a valid keyword.
			if err == nil {
				t.Errorf("%q accepted", tc.in)
			}
			continue
		}
		if err != nil || !pdf.Equal(got, tc.want) {
			t.Errorf("ParseObject(%q) = %#v, %v", tc.in, got, err)
		}
		again, err := pdf.ParseObject(pdf.AppendObject(nil, got))
		if err != nil || !pdf.Equal(again, got) {
			t.Errorf("re-serialized %q: %v", tc.in, err)
		}
	}
}

// TestTolerated: writer bugs common in real files that the reader accepts.
func TestTolerated(t *testing.T) {
	t.Run("xref subsection numbered from 1", func(t *testing.T) {
		b := pdftest.Build(pdftest.Simple(1, "x"), 1, pdftest.Options{})
		b = bytes.Replace(b, []byte("xref\n0 1\n0000000000 65535 f\r\n1 "), []byte("xref\n1 1\n0000000000 65535 f\r\n1 "), 1)
		if _, err := mustOpen(t, b).Latest().Pages(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("update trailer without /Root", func(t *testing.T) {
		b := pdftest.Build(pdftest.Simple(1, "x"), 1, pdftest.Options{})
		b = pdftest.Append(b, map[int]pdftest.Object{9: pdftest.Dict("<< >>")}, 1, pdftest.Options{})
		i := bytes.LastIndex(b, []byte("/Root 1 0 R"))
		b = append(append(append([]byte{}, b[:i]...), bytes.Repeat([]byte(" "), len("/Root 1 0 R"))...), b[i+len("/Root 1 0 R"):]...)
		if _, _, err := mustOpen(t, b).Latest().Catalog(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong stream /Length", func(t *testing.T) {
		objs := pdftest.Simple(1, "x")
		b := pdftest.Build(objs, 1, pdftest.Options{})
		if !bytes.Contains(b, []byte("/Length 41")) {
			t.Fatal("content length changed: fix the test")
		}
		b = bytes.Replace(b, []byte("/Length 41"), []byte("/Length 99"), 1)
		r := mustOpen(t, b)
		pages, _ := r.Latest().Pages()
		if got := contentText(t, r.Latest(), pages[0]); !strings.Contains(got, "x - page 1") {
			t.Errorf("content %q", got)
		}
	})
}
