package xades_test

// Attacks found while auditing the issue 10 verifier (report only what was verified). Each test fails on the code
// it was written against.

import (
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
