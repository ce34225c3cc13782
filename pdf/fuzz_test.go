package pdf_test

import (
	"bytes"
	"testing"

	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

// FuzzParsePDF opens arbitrary bytes as a PDF and walks everything reachable: it must never panic, hang or
// allocate without bound. Seeds live in testdata/fuzz/FuzzParsePDF.
func FuzzParsePDF(f *testing.F) {
	f.Add(pdftest.Build(pdftest.Simple(1, "seed"), 1, pdftest.Options{}))
	f.Add(pdftest.Build(withCompressed(pdftest.Simple(2, "seed"), 1, 2, 3), 1, pdftest.Options{XrefStream: true}))
	f.Add(pdftest.Build(withCompressed(pdftest.Simple(1, "seed"), 1, 2), 1, pdftest.Options{Hybrid: true}))
	f.Add(objstmCycleFile())
	for _, name := range []string{"rc4-40", "rc4-128-v4", "aes-128-objstm", "aes-256", "aes-256-r5", "user-aes-256"} {
		f.Add(readFixture(f, name+".pdf"))
	}
	lim := &pdf.Limits{MaxDecoded: 1 << 20, MaxObjectLoads: 10000}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := pdf.Open(bytes.NewReader(b), int64(len(b)), lim)
		if err != nil {
			return
		}
		for _, rv := range r.Revisions() {
			v := r.At(rv.Number)
			v.Pages()
			cat, _, err := v.Catalog()
			if err != nil {
				continue
			}
			walk(v, cat, 0, map[pdf.Ref]bool{})
		}
		// An update must serialize and reopen (unless the document is encrypted in a way the reader cannot
		// decrypt, which the update refuses).
		if r.DecryptErr() != nil {
			return
		}
		u := pdf.NewUpdate(r)
		u.Add(pdf.Dict{"Type": pdf.Name("Test")})
		w, err := u.Bytes(int64(len(b)), r.Trailer(), true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pdf.Open(bytes.NewReader(append(append([]byte{}, b...), w.Bytes...)), int64(len(b)+len(w.Bytes)), lim); err != nil {
			t.Logf("updated file does not reopen: %v", err)
		}
	})
}

func walk(v pdf.View, o pdf.Object, depth int, seen map[pdf.Ref]bool) {
	if depth > 50 || len(seen) > 2000 {
		return
	}
	switch x := o.(type) {
	case pdf.Ref:
		if seen[x] {
			return
		}
		seen[x] = true
		y, err := v.Get(x)
		if err == nil {
			walk(v, y, depth+1, seen)
		}
	case pdf.Array:
		for _, e := range x {
			walk(v, e, depth+1, seen)
		}
	case pdf.Dict:
		for _, e := range x {
			walk(v, e, depth+1, seen)
		}
	case *pdf.Stream:
		walk(v, x.Dict, depth+1, seen)
		v.Reader().DecodeStream(x, v)
	}
}
