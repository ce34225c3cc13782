package xades_test

// Detached (and same-document) content whose transforms need a node-set while their input is octets: the octets
// are parsed as XML (XMLDSig 1.1 §4.4.3.2) and the transform applied. Signatures made by xmlsec1 from templates.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// xmlsecSign signs a template (a standalone ds:Signature with empty DigestValue and SignatureValue) with xmlsec1 in
// dir, where its relative Reference URIs resolve, using the test PKI's RSA key; KeyInfo gets the signer and the
// intermediate. It skips when xmlsec1 is not installed.
func xmlsecSign(t *testing.T, dir, template string) []byte {
	t.Helper()
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		t.Skip("xmlsec1 is not installed (../shared/interop/setup installs it)")
	}
	p := testpki.New()
	key := interoptest.WriteKey(t, dir, "signer.key", p.RSA.Key)
	leaf := interoptest.WritePEM(t, dir, "signer.pem", p.RSA.Cert)
	inter := interoptest.WritePEM(t, dir, "inter.pem", p.Intermediate)
	writeFile(t, filepath.Join(dir, "template.xml"), []byte(template))
	cmd := exec.Command("xmlsec1", "--sign", "--privkey-pem", filepath.Base(key)+","+filepath.Base(leaf)+","+filepath.Base(inter), "--enabled-reference-uris",
		"empty,same-doc,local,remote", "--output", "signed.xml", "template.xml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmlsec1 --sign: %v\n%s", err, out)
	}
	signed, err := os.ReadFile(filepath.Join(dir, "signed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// detachedTemplate is an XMLDSig template over the detached file umowa.xml with the given transforms.
func detachedTemplate(transforms ...string) string {
	var tr strings.Builder
	for _, alg := range transforms {
		tr.WriteString(transform(alg))
	}
	return detachedTemplateXML(tr.String())
}

// detachedTemplateXML is detachedTemplate with the ds:Transform elements given as text.
func detachedTemplateXML(transforms string) string {
	return `<ds:Signature xmlns:ds="` + xades.NSDSig + `" Id="sig"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="` + xmldoc.ExcC14N +
		`"/><ds:SignatureMethod Algorithm="` + uriRSASHA256 + `"/><ds:Reference URI="umowa.xml"><ds:Transforms>` + transforms +
		`</ds:Transforms><ds:DigestMethod Algorithm="` + uriSHA256 + `"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`
}

// detachedXML is the signed file: attribute quotes, spacing and a comment that canonicalization normalizes.
const detachedXML = `<?xml version="1.0" encoding="UTF-8"?>
<wniosek xmlns="urn:example:wniosek" xmlns:x="urn:unused"><kwota  waluta='PLN'   Id="amount">100.00</kwota><!-- uwaga --><opis/></wniosek>
`

func TestDetachedXMLWithTransforms(t *testing.T) {
	equivalent := strings.NewReplacer(`waluta='PLN'   Id`, `waluta="PLN" Id`, `<opis/>`, `<opis></opis>`).Replace(detachedXML)
	cases := []struct {
		name       string
		transforms []string
		// comments: the digest covers the comment, so changing it fails
		comments bool
	}{
		{"exclusive C14N", []string{xmldoc.ExcC14N}, false},
		{"exclusive C14N with comments", []string{xmldoc.ExcC14NComments}, true},
		{"C14N 1.0", []string{xmldoc.C14N10}, false},
		{"C14N 1.0 with comments", []string{xmldoc.C14N10Comments}, true},
		{"C14N 1.1", []string{xmldoc.C14N11}, false},
		{"C14N 1.0 then exclusive C14N (octets parsed again)", []string{xmldoc.C14N10, xmldoc.ExcC14N}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "umowa.xml"), []byte(detachedXML))
			signed := xmlsecSign(t, dir, detachedTemplate(tc.transforms...))
			verdict := func(content string) verify.SignatureReport {
				rep := verify.XML("signed.xml", signed, trusting(), verify.XMLOptions{Detached: map[string][]byte{"umowa.xml": []byte(content)}})
				if len(rep.Signatures) != 1 {
					t.Fatalf("%d signatures (%s)", len(rep.Signatures), rep.Error)
				}
				return rep.Signatures[0]
			}
			checkSignature(t, verdict(detachedXML), passed)
			checkSignature(t, verdict(equivalent), passed)
			checkSignature(t, verdict(strings.Replace(detachedXML, "100.00", "900.00", 1)), want{verify.TotalFailed, verify.HashFailure, "does not match"})
			commentChanged := strings.Replace(detachedXML, "uwaga", "inna uwaga", 1)
			if tc.comments {
				checkSignature(t, verdict(commentChanged), want{verify.TotalFailed, verify.HashFailure, "does not match"})
			} else {
				checkSignature(t, verdict(commentChanged), passed)
			}
			checkSignature(t, verdict("umowa: 100.00 PLN\n"), want{verify.TotalFailed, verify.HashFailure, "not XML"})

			res, err := xades.Verify(signed, xades.VerifyOptions{Detached: map[string][]byte{"umowa.xml": []byte(detachedXML)}})
			if err != nil {
				t.Fatal(err)
			}
			if r := res.Signatures[0].References[0]; r.Status != xades.RefOK || strings.Contains(string(r.Verified), "'PLN'") ||
				!strings.Contains(string(r.Verified), `waluta="PLN"`) {
				t.Errorf("verified content is not the canonical form: %v %q", r.Status, r.Verified)
			}
		})
	}
	t.Run("enveloped-signature on detached XML is refused (as xmlsec1 does)", func(t *testing.T) {
		p := testpki.New()
		doc := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + plainSignature("sig", uriRSASHA256,
			reference(`URI="umowa.xml"`, transform(xades.TransformEnveloped)+transform(xmldoc.ExcC14N), uriSHA256), x509Data(p.RSA.Cert, p.Intermediate))
		doc = strings.Replace(doc, "<ds:DigestValue>AA==", "<ds:DigestValue>"+b64(make([]byte, 32)), 1)
		doc = resign(t, doc, "sig", p.RSA.Key)
		s := verify.XML("signed.xml", []byte(doc), trusting(), verify.XMLOptions{Detached: map[string][]byte{"umowa.xml": []byte(detachedXML)}}).Signatures[0]
		checkSignature(t, s, want{verify.TotalFailed, verify.FormatFailure, "enveloped-signature transform"})
	})
}

// Signature-excluding transforms over a detached XML file that holds a ds:Signature of its own: the octets are
// parsed, the signature subtracted, and the rest digested.
func TestDetachedXMLSignatureExclusion(t *testing.T) {
	const withSig = `<?xml version="1.0" encoding="UTF-8"?>
<wniosek xmlns="urn:example:wniosek" xmlns:ds="` + xades.NSDSig + `"><kwota>100.00</kwota><ds:Signature>dawny podpis</ds:Signature></wniosek>
`
	cases := []struct{ name, transforms string }{
		{"XPath Filter 2.0 subtract, exclusive C14N", `<ds:Transform Algorithm="` + xades.TransformFilter2 + `"><dsig-xpath:XPath xmlns:dsig-xpath="` +
			xades.NSFilter2 + `" Filter="subtract">/descendant::ds:Signature</dsig-xpath:XPath></ds:Transform>` + transform(xmldoc.ExcC14N)},
		{"XPath not(ancestor-or-self::ds:Signature)", `<ds:Transform Algorithm="` + xades.TransformXPath +
			`"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "umowa.xml"), []byte(withSig))
			signed := xmlsecSign(t, dir, detachedTemplateXML(tc.transforms))
			verdict := func(content string) verify.SignatureReport {
				return verify.XML("signed.xml", signed, trusting(), verify.XMLOptions{Detached: map[string][]byte{"umowa.xml": []byte(content)}}).Signatures[0]
			}
			checkSignature(t, verdict(withSig), passed)
			checkSignature(t, verdict(strings.Replace(withSig, "dawny podpis", "inny", 1)), passed)
			checkSignature(t, verdict(strings.Replace(withSig, "100.00", "900.00", 1)), want{verify.TotalFailed, verify.HashFailure, "does not match"})
		})
	}
}

// A same-document reference whose first transform gives octets and whose second needs a node-set: the octets are
// parsed (XMLDSig 1.1 §4.4.3.2).
func TestSameDocumentOctetsParsedForTransform(t *testing.T) {
	p := testpki.New()
	sig := plainSignature("sig", uriRSASHA256, reference(`URI="#amount"`, transform(xmldoc.ExcC14N)+transform(xmldoc.C14N10), uriSHA256),
		x509Data(p.RSA.Cert, p.Intermediate))
	doc := finish(t, insertBeforeRootEnd(t, attackDoc, sig), "sig", p.RSA.Key)
	checkSignature(t, verify.XML("signed.xml", []byte(doc), trusting(), verify.XMLOptions{}).Signatures[0], passed)
	checkSignature(t, verify.XML("signed.xml", []byte(strings.Replace(doc, "100.00", "900.00", 1)), trusting(), verify.XMLOptions{}).Signatures[0],
		want{verify.TotalFailed, verify.HashFailure, "does not match"})
}
