package pdf_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

// Open reads only the cross-reference structure; objects are read on demand.
func ExampleOpen() {
	b := pdftest.Build(pdftest.Simple(2, "Hello"), 1, pdftest.Options{XrefStream: true})
	r, err := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	pages, _ := r.Latest().Pages()
	_, kind := r.LastXref()
	fmt.Println(len(r.Revisions()), "revision,", len(pages), "pages, xref", kind)
	// Output: 1 revision, 2 pages, xref stream
}

// NewUpdate appends objects and a cross-reference section of the same kind as the previous one.
func ExampleNewUpdate() {
	b := pdftest.Build(pdftest.Simple(1, "Hello"), 1, pdftest.Options{})
	r, _ := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
	u := pdf.NewUpdate(r)
	cat, catRef, _ := r.Latest().Catalog()
	c := cat.Clone()
	c["Lang"] = pdf.TextString("pl-PL")
	u.Set(catRef, c)
	w, _ := u.Bytes(int64(len(b)), r.Trailer(), false)
	out := append(append([]byte{}, b...), w.Bytes...)
	r2, _ := pdf.Open(bytes.NewReader(out), int64(len(out)), nil)
	cat2, _, _ := r2.Latest().Catalog()
	fmt.Println(len(r2.Revisions()), pdf.Text(cat2["Lang"]))
	// Output: 2 pl-PL
}

// A document encrypted with the empty user password is read decrypted; one that needs a password is reported by
// DecryptErr and its objects are refused.
func ExampleReader_DecryptErr() {
	for _, name := range []string{"aes-256.pdf", "user-aes-256.pdf"} {
		b, _ := os.ReadFile(filepath.Join("testdata", "crypt", name))
		r, err := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := r.DecryptErr(); err != nil {
			fmt.Println(name, r.Encrypted(), errors.Is(err, pdf.ErrUserPassword))
			continue
		}
		info, _ := r.Latest().Dict(r.Trailer()["Info"])
		fmt.Println(name, r.Encrypted(), pdf.Text(info["Title"]))
	}
	// Output:
	// aes-256.pdf true Encrypted fixture
	// user-aes-256.pdf true true
}
