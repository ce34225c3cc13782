package pades_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

// signTime is the signing time of the tests: now (the test PKI is valid from an hour ago), in a fixed zone.
var signTime = time.Now().Add(-time.Minute).Truncate(time.Second).In(time.FixedZone("CET", 3600))

var testProfile = &pades.Profile{FirstName: "ANNA", Surname: "TESTOWA-ŻÓŁĆ", PESEL: "44051401359", ProfileID: "987654321", Login: "atestowa"}

func opts(id testpki.Identity) pades.SignOptions {
	return pades.SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: id.Chain, Time: signTime}
}

// sign signs b in memory.
func sign(t testing.TB, b []byte, o pades.SignOptions) []byte {
	t.Helper()
	var out bytes.Buffer
	res, err := pades.Sign(context.Background(), bytes.NewReader(b), int64(len(b)), &out, o)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if res.Size != int64(out.Len()) {
		t.Fatalf("SignResult.Size %d, output %d", res.Size, out.Len())
	}
	return out.Bytes()
}

func verifyBytes(t testing.TB, b []byte) *pades.Result {
	t.Helper()
	res, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

// intact reports why s is not a structurally sound, cryptographically valid signature ("" if it is).
func intact(s *pades.Signature) string {
	switch {
	case len(s.Problems) > 0:
		return fmt.Sprintf("problems %q", s.Problems)
	case !s.ByteRangeShapeOK || !s.GapIsContents || !s.InsideFile || s.CoveredRevision == 0:
		return "bad ByteRange"
	case s.CMSErr != nil:
		return "CMS: " + s.CMSErr.Error()
	case s.CMSResult == nil:
		return "no CMS result"
	case len(s.CMSResult.Problems()) > 0:
		return fmt.Sprintf("CMS problems %q", s.CMSResult.Problems())
	}
	return ""
}

// wantValid checks that every signature in b is intact and unmodified, and returns the result.
func wantValid(t testing.TB, b []byte, n int) *pades.Result {
	t.Helper()
	res := verifyBytes(t, b)
	if len(res.Signatures) != n {
		t.Fatalf("%d signatures, want %d", len(res.Signatures), n)
	}
	for i, s := range res.Signatures {
		if why := intact(s); why != "" {
			t.Errorf("signature %d (%s): %s", i+1, s.FieldName, why)
		}
		if s.Modified {
			t.Errorf("signature %d (%s) modified: %+v", i+1, s.FieldName, s.Changes)
		}
	}
	last := res.Signatures[len(res.Signatures)-1]
	if !last.CoversWholeFile {
		t.Errorf("last signature does not cover the whole file")
	}
	return res
}

// simplePDF returns a one-or-more-page document of the given shape.
func simplePDF(pages int, shape string) []byte {
	objs := pdftest.Simple(pages, "Wniosek do urzedu")
	o := pdftest.Options{}
	switch shape {
	case "xref-stream":
		o.XrefStream = true
		for _, n := range []int{1, 2, 3, 4} {
			x := objs[n]
			x.Compress = true
			objs[n] = x
		}
	case "hybrid":
		o.Hybrid = true
		for _, n := range []int{2, 3} {
			x := objs[n]
			x.Compress = true
			objs[n] = x
		}
	}
	return pdftest.Build(objs, 1, o)
}

// update appends an incremental update (table or stream, as the file's last section) with the given objects.
func update(t testing.TB, b []byte, objs map[int]pdftest.Object) []byte {
	t.Helper()
	r, err := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, kind := r.LastXref()
	root, _ := r.Trailer()["Root"].(pdf.Ref)
	return pdftest.Append(b, objs, int(root.Num), pdftest.Options{XrefStream: kind == pdf.XrefStream})
}

// object returns the serialized latest version of object num (without "obj"/"endobj").
func object(t testing.TB, b []byte, num int) string {
	t.Helper()
	r, err := pdf.Open(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := r.Latest().Get(pdf.Ref{Num: uint32(num)})
	if err != nil || o == nil {
		t.Fatalf("object %d: %v", num, err)
	}
	if s, ok := o.(*pdf.Stream); ok {
		return string(pdf.AppendObject(nil, s.Dict))
	}
	return string(pdf.AppendObject(nil, o))
}

// sigObject returns the object number of the (last) signature dictionary and of its widget.
func sigObjects(t testing.TB, b []byte) (sig, widget int) {
	t.Helper()
	res := verifyBytes(t, b)
	if len(res.Signatures) == 0 {
		t.Fatal("no signature")
	}
	sig = int(res.Signatures[len(res.Signatures)-1].Object)
	m := regexp.MustCompile(`(?s)(\d+) 0 obj\n<</Type /Annot[^\n]*?/V `+strconv.Itoa(sig)+` 0 R`).FindAllSubmatch(b, -1)
	if len(m) == 0 {
		t.Fatal("widget not found")
	}
	widget, _ = strconv.Atoi(string(m[len(m)-1][1]))
	return sig, widget
}

// flip changes one byte of b (a copy) at the first occurrence of what.
func flip(t testing.TB, b []byte, what string) []byte {
	t.Helper()
	i := bytes.Index(b, []byte(what))
	if i < 0 {
		t.Fatalf("%q not found", what)
	}
	out := bytes.Clone(b)
	out[i] ^= 0x20
	return out
}

func writeTemp(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func certsOf(ids ...testpki.Identity) []*x509.Certificate {
	var out []*x509.Certificate
	for _, id := range ids {
		out = append(out, id.Cert)
	}
	return out
}

var _ = crypto.SHA256

// streamObj is an uncompressed stream object with the given data.
func streamObj(data string) pdftest.Object { return pdftest.StreamObj("<< >>", []byte(data)) }
