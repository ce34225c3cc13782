package xades_test

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// manyDetached is a detached XAdES signature (RSA) over n files, one reference each, as EU DSS's test suite has
// with 500: our detached signature of the first file with the other references added and the value re-made.
func manyDetached(t testing.TB, n int) (string, map[string][]byte) {
	t.Helper()
	name := func(i int) string { return fmt.Sprintf("zalacznik-%04d.txt", i) }
	files := make(map[string][]byte, n)
	for i := range n {
		files[name(i)] = fmt.Appendf(nil, "załącznik %d: 100.00 PLN\n", i)
	}
	p := testpki.New()
	doc := signWith(t, string(files[name(0)]), p.RSA, xades.SignOptions{Format: xades.Detached, DetachedURI: name(0)})
	var refs strings.Builder
	for i := 1; i < n; i++ {
		d := sha256.Sum256(files[name(i)])
		refs.WriteString(`<ds:Reference URI="` + name(i) + `"><ds:DigestMethod Algorithm="` + uriSHA256 + `"/><ds:DigestValue>` +
			b64(d[:]) + `</ds:DigestValue></ds:Reference>`)
	}
	doc = replaceOne(t, doc, `</ds:SignedInfo>`, refs.String()+`</ds:SignedInfo>`)
	return resign(t, doc, sigIDs(t, doc)[0], p.RSA.Key), files
}

func TestManyDetachedReferences(t *testing.T) {
	doc, files := manyDetached(t, 500)
	rep := verify.XML("signature.xml", []byte(doc), trusting(), verify.XMLOptions{Detached: files})
	if len(rep.Signatures) != 1 {
		t.Fatalf("%d signatures (%s)", len(rep.Signatures), rep.Error)
	}
	checkSignature(t, rep.Signatures[0], passed)
	res, err := xades.Verify([]byte(doc), xades.VerifyOptions{Detached: files})
	if err != nil {
		t.Fatal(err)
	}
	refs := res.Signatures[0].References
	if len(refs) != 501 {
		t.Fatalf("%d references, want 500 files and the signed properties", len(refs))
	}
	for i, r := range refs {
		if r.Status != xades.RefOK {
			t.Fatalf("reference %d (%s): %v %s", i, r.URI, r.Status, r.Detail)
		}
		if !r.SignedProperties && string(r.Verified) != string(files[r.URI]) {
			t.Errorf("reference %s: verified content is not the file", r.URI)
		}
	}

	t.Run("one file changed", func(t *testing.T) {
		bad := make(map[string][]byte, len(files))
		for k, v := range files {
			bad[k] = v
		}
		bad["zalacznik-0321.txt"] = []byte("załącznik 321: 900.00 PLN\n")
		s := verify.XML("signature.xml", []byte(doc), trusting(), verify.XMLOptions{Detached: bad}).Signatures[0]
		checkSignature(t, s, want{verify.TotalFailed, verify.HashFailure, "zalacznik-0321.txt"})
	})
	t.Run("over the limit of 1000", func(t *testing.T) {
		doc, files := manyDetached(t, 1001)
		s := verify.XML("signature.xml", []byte(doc), trusting(), verify.XMLOptions{Detached: files}).Signatures[0]
		checkSignature(t, s, want{verify.TotalFailed, verify.FormatFailure, "limit of 1000"})
	})
}

// Raising the reference limit keeps the work bounded: references past the digest budget are refused.
func TestAttackManyReferencesToALargeDocument(t *testing.T) {
	p := testpki.New()
	filter2 := `<ds:Transform Algorithm="` + xades.TransformFilter2 + `"><dsig-xpath:XPath xmlns:dsig-xpath="` + xades.NSFilter2 +
		`" Filter="subtract">/descendant::ds:Signature</dsig-xpath:XPath></ds:Transform>`
	line := "<p>Zażółć gęślą jaźń 0123456789 abcdefghij</p>\n"
	large := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<wniosek>" + strings.Repeat(line, (2<<20)/len(line)) + "</wniosek>"
	refs := strings.ReplaceAll(strings.Repeat(reference(`URI=""`, filter2, uriSHA256), 1000), "<ds:DigestValue>AA==", "<ds:DigestValue>"+b64(make([]byte, 32)))
	var sigs strings.Builder
	for i := range 12 {
		sigs.WriteString(plainSignature(fmt.Sprintf("s%d", i), uriRSASHA256, refs, x509Data(p.RSA.Cert)))
	}
	doc := insertBeforeRootEnd(t, large, sigs.String())
	rep := verify.XML("big.xml", []byte(doc), trusting(), verify.XMLOptions{})
	if rep.Indication != verify.TotalFailed {
		t.Fatalf("indication %s", rep.Indication)
	}
	limited := false
	for _, s := range rep.Signatures {
		for _, r := range s.Reasons {
			limited = limited || strings.Contains(r, "processing limit")
		}
	}
	if !limited {
		t.Errorf("no reference refused at the processing limit: %q", rep.Signatures[len(rep.Signatures)-1].Reasons)
	}
}

// References whose node-set is mostly excluded still cost a walk of the document: it counts in the work budget.
func TestAttackManyReferencesToExcludedContent(t *testing.T) {
	p := testpki.New()
	filter2 := `<ds:Transform Algorithm="` + xades.TransformFilter2 + `"><dsig-xpath:XPath xmlns:dsig-xpath="` + xades.NSFilter2 +
		`" Filter="subtract">/descendant::ds:Signature</dsig-xpath:XPath></ds:Transform>`
	refs := strings.ReplaceAll(strings.Repeat(reference(`URI=""`, filter2, uriSHA256), 1000), "<ds:DigestValue>AA==", "<ds:DigestValue>"+b64(make([]byte, 32)))
	doc := `<wniosek xmlns:ds="` + xades.NSDSig + `">` + plainSignature("s0", uriRSASHA256, refs, x509Data(p.RSA.Cert)) +
		strings.Repeat("<ds:Signature/>", 100000) + "</wniosek>"
	res, err := xades.Verify([]byte(doc), xades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	limited := 0
	for _, r := range res.Signatures[0].References {
		if r.Status == xades.RefRefused && strings.Contains(r.Detail, "processing limit") {
			limited++
		}
	}
	if limited < 500 {
		t.Errorf("%d of 1000 references refused at the processing limit", limited)
	}
}

// BenchmarkVerify500DetachedReferences is EU DSS's "500 references in under 10 s" case.
func BenchmarkVerify500DetachedReferences(b *testing.B) {
	doc, files := manyDetached(b, 500)
	b.ReportAllocs()
	for b.Loop() {
		res, err := xades.Verify([]byte(doc), xades.VerifyOptions{Detached: files})
		if err != nil || !res.Signatures[0].SignatureValid {
			b.Fatal("verification failed")
		}
	}
}
