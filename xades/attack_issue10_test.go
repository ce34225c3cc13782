package xades_test

// Attacks found while auditing the issue 10 verifier (report only what was verified). Each test fails on the code
// it was written against.

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// The verifier keeps the canonical form of node-sets it already digested, keyed by document, apex, comment mode and
// excluded subtrees, but not by XPath Filter 2.0 filters. A reference of an earlier (attacker's, failing) signature
// with URI="" and an "intersect" filter selecting a copy of the original document then fills that cache, and the
// genuine signature's URI="" reference (subtract //ds:Signature) is compared against the copy's bytes instead of the
// document: the genuine signature passes over a document whose content was changed.
func TestAttackFilter2NodeSetCacheIgnoresFilters(t *testing.T) {
	genuine := signWith(t, attackDoc, testpki.New().RSA, xades.SignOptions{})
	// the canonical form the genuine reference digested (comments excluded)
	original := `<wniosek xmlns="urn:example:wniosek"><kwota Id="amount" waluta="PLN">100.00</kwota>` +
		`<odbiorca>Jan Kowalski</odbiorca><opis>Zażółć gęślą jaźń</opis></wniosek>`
	evil := `<Signature xmlns="` + xades.NSDSig + `" Id="evil"><SignedInfo><CanonicalizationMethod Algorithm="` +
		xmldoc.ExcC14N + `"/><SignatureMethod Algorithm="` + uriRSASHA256 + `"/><Reference URI=""><Transforms>` +
		`<Transform Algorithm="http://www.w3.org/2002/06/xmldsig-filter2"><f:XPath ` +
		`xmlns:f="http://www.w3.org/2002/06/xmldsig-filter2" xmlns:w="urn:example:wniosek" xmlns:d="` + xades.NSDSig +
		`" Filter="intersect">/w:wniosek/d:Signature/d:Object/w:wniosek</f:XPath></Transform></Transforms>` +
		`<DigestMethod Algorithm="` + uriSHA256 + `"/><DigestValue>` + b64(make([]byte, 32)) + `</DigestValue>` +
		`</Reference></SignedInfo><SignatureValue>AA==</SignatureValue><Object>` + original + `</Object></Signature>`
	doc := replaceOne(t, genuine, `<kwota Id="amount" waluta="PLN">100.00</kwota>`, evil+`<kwota waluta="PLN">999999.00</kwota>`)
	rep := verify.XML("tampered.xml", []byte(doc), trusting(), verify.XMLOptions{})
	if len(rep.Signatures) != 2 {
		t.Fatalf("%d signatures, want 2 (error %q)", len(rep.Signatures), rep.Error)
	}
	s := rep.Signatures[1]
	if s.Indication == verify.TotalPassed || s.Checks.Digests == verify.Passed {
		t.Errorf("the genuine signature passes over a document whose amount was changed: %s, checks %+v, covered %q",
			s.Indication, s.Checks, s.Covered)
	}
	if !strings.Contains(doc, "999999.00") {
		t.Fatal("crafting failed")
	}
}

// XPath Filter 2.0 work is not charged to the document's processing budget: each XPath element may visit up to 4M
// nodes, a reference may hold 64 of them, a signature 1000 references, a document 64 signatures. A 7 MB document
// whose references each union "//*" 63 times over 200 000 elements, then intersect one small element (so that the
// canonical output, the only work that is counted, stays tiny), keeps a verifier busy for hours (about 40 s per
// reference measured over 500 000 elements). The work of a verification must stay bounded by a multiple of its
// input, as for canonicalization; a reference past that bound is refused.
//
// Deterministic form (no clock): over 50 000 elements, each reference asks for 30 walks of the whole document
// (1.5 million node visits); the document's work budget (64 MiB plus 32 times its size) pays for a few dozen walks,
// so at most the first few references may be evaluated and every later one must be refused for the processing
// limit without being evaluated. Before the fix every reference was evaluated in full.
func TestAttackFilter2WorkIsUnbounded(t *testing.T) {
	const elements, refs = 50_000, 1000
	var b strings.Builder
	b.WriteString(`<r xmlns:ds="` + xades.NSDSig + `"><t Id="x">hi</t>`)
	b.WriteString(strings.Repeat("<a/>", elements))
	xp := func(op, expr string) string {
		return `<f:XPath xmlns:f="` + xades.NSFilter2 + `" Filter="` + op + `">` + expr + `</f:XPath>`
	}
	one := `<ds:Transform Algorithm="` + xades.TransformFilter2 + `">` + strings.Repeat(xp("union", "//*"), 15) +
		xp("intersect", "id('x')") + `</ds:Transform>`
	ref := `<ds:Reference URI=""><ds:Transforms>` + strings.Repeat(one, 2) + `</ds:Transforms><ds:DigestMethod Algorithm="` +
		uriSHA256 + `"/><ds:DigestValue>` + b64(make([]byte, 32)) + `</ds:DigestValue></ds:Reference>`
	b.WriteString(`<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="` + xmldoc.ExcC14N +
		`"/><ds:SignatureMethod Algorithm="` + uriRSASHA256 + `"/>` + strings.Repeat(ref, refs) +
		`</ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature></r>`)
	doc := []byte(b.String())

	res, err := xades.Verify(doc, xades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Signatures) != 1 || len(res.Signatures[0].References) != refs {
		t.Fatalf("%d signatures, want 1 with %d references", len(res.Signatures), refs)
	}
	// the budget pays for at most budget / (visit cost × walk) walks of the document; a reference takes 30
	budget := 64<<20 + 32*len(doc)
	walks := budget / (16 * elements) // a visit costs well over 16 bytes of canonicalization
	maxEvaluated := walks/30 + 1
	limited, evaluated := 0, 0
	for i, rr := range res.Signatures[0].References {
		switch {
		case rr.Status == xades.RefRefused && strings.Contains(rr.Detail, "processing limit"):
			limited++
		case rr.Status == xades.RefOK:
			t.Fatalf("reference %d verifies", i)
		default:
			evaluated++
		}
	}
	if evaluated > maxEvaluated || limited < refs-maxEvaluated {
		t.Errorf("%d references evaluated, %d refused for the processing limit: the work of a verification is not bounded "+
			"(the budget of %d bytes pays for at most %d references of 30 document walks)", evaluated, limited, budget, maxEvaluated)
	}

	rep := verify.XML("dos.xml", doc, trusting(), verify.XMLOptions{})
	if rep.Indication == verify.TotalPassed {
		t.Errorf("TOTAL_PASSED")
	}
}

// docs/wrapper.md tells an auditor to extract a container's file with xmllint (the string value of the first
// element named Content). The genuine signature may stand anywhere among the container's parts and may carry
// unsigned ds:Object elements, neither of which its digest sees: moving it to the front and giving it an Object
// holding <x:Content>EVIL</x:Content> leaves the signature TOTAL_PASSED (its wrappedFile, read from the verified
// content, is still the signed file), while the documented command extracts the attacker's file.
func TestAttackWrapperDocumentedExtraction(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint is not installed")
	}
	docs, err := os.ReadFile(filepath.Join("..", "docs", "wrapper.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`xmllint --xpath '([^']*)'`).FindSubmatch(docs)
	if m == nil {
		t.Skip("docs/wrapper.md no longer extracts with xmllint")
	}
	genuine := []byte("%PDF-1.7 the signed file")
	signed := signWith(t, string(xades.Wrap("umowa.pdf", "application/pdf", genuine)), testpki.New().RSA, xades.SignOptions{})
	i, j := strings.Index(signed, "<ds:Signature "), strings.LastIndex(signed, "</ds:Signature>")+len("</ds:Signature>")
	sig := signed[i:j]
	sig = strings.Replace(sig, "</ds:Signature>", `<ds:Object><x:Content xmlns:x="urn:x">`+b64([]byte("EVIL"))+
		`</x:Content></ds:Object></ds:Signature>`, 1)
	doc := signed[:i] + signed[j:]
	doc = replaceOne(t, doc, `version="1">`, `version="1">`+sig)

	rep := verify.XML("signed.xml", []byte(doc), trusting(), verify.XMLOptions{})
	if len(rep.Signatures) != 1 || rep.Signatures[0].Indication != verify.TotalPassed || rep.Signatures[0].WrappedFile == nil {
		t.Skipf("the crafted container no longer verifies (%s): the attack is refused by the verifier", rep.Indication)
	}
	path := writeFile(t, filepath.Join(t.TempDir(), "signed.xml"), []byte(doc))
	out, err := exec.CommandContext(t.Context(), xmllint, "--xpath", string(m[1]), path).Output()
	if err != nil {
		t.Fatalf("xmllint: %v", err)
	}
	got, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(out)), ""))
	if !bytes.Equal(got, genuine) {
		t.Errorf("verify reports the signed file %s (SHA-256 %s), the extraction docs/wrapper.md gives yields %q",
			rep.Signatures[0].WrappedFile.Name, rep.Signatures[0].WrappedFile.SHA256, got)
	}
}

// A reference URI="" narrowed by XPath Filter 2.0 to id('amount') (xmlsec1 writes it, see
// TestInteropXmlsecXPathTransforms) is the same data as URI="#amount", but gets none of its defences: the signed
// element may be moved into the signature's own ds:Object (or anywhere else) and a fake one put where the
// application reads it. For URI="#amount" the report names where the signed element is (TestAttackWrapping-
// ReportsWhatWasSigned); here it says "whole document <wniosek>, ... intersect id('amount') (1 element(s))", which
// an auditor reads as the document's amount being signed.
func TestAttackFilter2IntersectWrapping(t *testing.T) {
	p := testpki.New()
	tr := `<ds:Transform Algorithm="` + xades.TransformFilter2 + `"><f:XPath xmlns:f="` + xades.NSFilter2 +
		`" Filter="intersect">id('amount')</f:XPath></ds:Transform>` + transform(xmldoc.ExcC14N)
	doc := insertBeforeRootEnd(t, attackDoc, plainSignature("xp", uriRSASHA256, reference(`URI=""`, tr, uriSHA256), x509Data(p.RSA.Cert)))
	d := parseDoc(t, doc)
	h := hashOfURI(t, uriSHA256).New()
	h.Write(xmldoc.AppendCanonical(nil, xmldoc.Subset{Doc: d, Apex: d.ByID("amount")[0]}, xmldoc.Method{Exclusive: true}))
	doc = resign(t, setDigest(t, doc, "xp", 0, h.Sum(nil)), "xp", p.RSA.Key)
	checkSignature(t, verify.XML("a.xml", []byte(doc), trusting(), verify.XMLOptions{}).Signatures[0], passed)

	const genuineAmount = `<kwota Id="amount" waluta="PLN">100.00</kwota>`
	attacked := replaceOne(t, doc, genuineAmount, `<kwota waluta="PLN">999999.00</kwota>`)
	attacked = replaceOne(t, attacked, `</ds:Signature>`, `<ds:Object>`+genuineAmount+`</ds:Object></ds:Signature>`)
	rep := verify.XML("wrapped.xml", []byte(attacked), trusting(), verify.XMLOptions{})
	s := rep.Signatures[0]
	if s.Indication != verify.TotalPassed {
		return // refused: fine
	}
	if !strings.Contains(strings.Join(s.Covered, " "), "ds:Object") {
		t.Errorf("TOTAL_PASSED with covered %q: the signed amount now sits in the signature's ds:Object, the document shows 999999.00", s.Covered)
	}
}
