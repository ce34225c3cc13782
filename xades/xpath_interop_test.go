package xades_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// xpathDoc is signed by xmlsec1 with XPath transforms: kwota and odbiorca are the parts the cases select, opis the
// part they leave out.
const xpathDoc = `<wniosek xmlns="urn:example:wniosek"><kwota Id="amount" waluta="PLN">100.00</kwota>` +
	`<odbiorca Id="payee">Jan Kowalski</odbiorca><opis>poza podpisem</opis>SIGNATURE</wniosek>`

// xmlsecTemplate is an enveloped XMLDSig template whose one reference (URI "") has the given transforms, then
// exclusive C14N.
func xmlsecTemplate(transforms string) string {
	sig := `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
		`<ds:Reference URI=""><ds:Transforms>` + transforms +
		`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>` +
		`</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`
	return strings.Replace(xpathDoc, "SIGNATURE", sig, 1)
}

func filter2(xpaths ...string) string {
	var b strings.Builder
	b.WriteString(`<ds:Transform Algorithm="` + xades.TransformFilter2 + `">`)
	for i := 0; i+1 < len(xpaths); i += 2 {
		b.WriteString(`<f:XPath xmlns:f="` + xades.NSFilter2 + `" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#" ` +
			`xmlns:w="urn:example:wniosek" Filter="` + xpaths[i] + `">` + xpaths[i+1] + `</f:XPath>`)
	}
	b.WriteString(`</ds:Transform>`)
	return b.String()
}

func xpath1(expr string) string {
	return `<ds:Transform Algorithm="` + xades.TransformXPath + `"><ds:XPath xmlns:dsig="http://www.w3.org/2000/09/xmldsig#" ` +
		`xmlns:w="urn:example:wniosek">` + expr + `</ds:XPath></ds:Transform>`
}

// XPath Filter 2.0 and XPath 1.0 transforms in signatures made by xmlsec1 (libxml2's XPath engine) verify in ours,
// and what they select is what is protected: a change inside the selected node-set breaks the signature, a change
// outside it does not.
func TestInteropXmlsecXPathTransforms(t *testing.T) {
	xmlsec, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv(interoptest.RequireEnv) == "1" {
			t.Fatal("xmlsec1 is not installed")
		}
		t.Skip("xmlsec1 is not installed")
	}
	p := testpki.New()
	keys := t.TempDir()
	key := interoptest.WriteKey(t, keys, "rsa.key", p.RSA.Key)
	cert := interoptest.WritePEM(t, keys, "rsa.pem", p.RSA.Cert)
	amount := [2]string{"100.00", "900.00"}
	payee := [2]string{"Jan Kowalski", "Jan Nowak"}
	outside := [2]string{"poza podpisem", "zmieniony opis"}
	sigText := [2]string{"<ds:KeyInfo>", "<ds:KeyInfo><!--comment--><ds:KeyName>x</ds:KeyName>"}
	cases := []struct {
		name       string
		transforms string
		inside     [][2]string
		outside    [][2]string
	}{
		{"filter2 intersect by Id", filter2("intersect", `//*[@Id='amount']`), [][2]string{amount}, [][2]string{payee, outside, sigText}},
		{"filter2 intersect id() union name", filter2("intersect", `id('amount')`, "union", "//w:odbiorca"),
			[][2]string{amount, payee}, [][2]string{outside, sigText}},
		{"filter2 intersect path, subtract, union", filter2("intersect", "/w:wniosek/w:kwota | /w:wniosek/w:opis", "subtract", "//w:opis", "union", `//*[@Id="payee"]`),
			[][2]string{amount, payee}, [][2]string{outside, sigText}},
		{"filter2 subtract all signatures", filter2("subtract", "//dsig:Signature"), [][2]string{amount, payee, outside}, [][2]string{sigText}},
		{"filter2 subtract here signature", filter2("subtract", "here()/ancestor::dsig:Signature[1]"), [][2]string{amount, payee, outside}, [][2]string{sigText}},
		{"filter2 two transforms intersect", filter2("intersect", "/w:wniosek/w:kwota | //w:odbiorca") + filter2("subtract", "//w:odbiorca"),
			[][2]string{amount}, [][2]string{payee, outside, sigText}},
		{"xpath1 not ancestor-or-self Signature", xpath1("not(ancestor-or-self::dsig:Signature)"), [][2]string{amount, payee, outside}, [][2]string{sigText}},
		{"xpath1 enveloped equivalent", xpath1("count(ancestor-or-self::dsig:Signature | here()/ancestor::dsig:Signature[1]) &gt; count(ancestor-or-self::dsig:Signature)"),
			[][2]string{amount, payee, outside}, [][2]string{sigText}},
		{"xpath1 ancestor-or-self by Id", xpath1("ancestor-or-self::*[@Id='amount']"), [][2]string{amount}, [][2]string{payee, outside, sigText}},
		{"xpath1 not ancestor-or-self by name", xpath1("not(ancestor-or-self::w:opis) and not(ancestor-or-self::dsig:Signature)"), nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tmpl := filepath.Join(dir, "tmpl.xml")
			writeFile(t, tmpl, []byte(xmlsecTemplate(tc.transforms)))
			out := filepath.Join(dir, "signed.xml")
			msg, err := exec.CommandContext(t.Context(), xmlsec, "--sign", "--privkey-pem", key+","+cert,
				"--id-attr:Id", "kwota", "--id-attr:Id", "odbiorca", "--output", out, tmpl).CombinedOutput()
			if tc.inside == nil {
				// a form we refuse (general XPath): ours says so instead of guessing
				if err != nil {
					t.Fatalf("xmlsec1: %v\n%s", err, msg)
				}
				rep := oursVerdict(t, out, nil)
				if rep.Indication != verify.TotalFailed || !strings.Contains(strings.Join(rep.Signatures[0].Reasons, " "), "not accepted") {
					t.Errorf("ours: %s %q", rep.Indication, rep.Signatures[0].Reasons)
				}
				return
			}
			if err != nil {
				t.Fatalf("xmlsec1: %v\n%s", err, msg)
			}
			signed, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			rep := oursVerdict(t, out, nil)
			if len(rep.Signatures) != 1 || rep.Signatures[0].Indication != verify.TotalPassed {
				t.Fatalf("ours on xmlsec1's signature: %s %+v\n%s", rep.Indication, rep.Signatures, signed)
			}
			t.Logf("covered: %q", rep.Signatures[0].Covered)
			for _, ch := range tc.inside {
				bad := writeFile(t, filepath.Join(t.TempDir(), "signed.xml"), []byte(replaceOne(t, string(signed), ch[0], ch[1])))
				if rep := oursVerdict(t, bad, nil); rep.Indication != verify.TotalFailed || rep.Signatures[0].SubIndication != verify.HashFailure {
					t.Errorf("change inside the signed set (%s → %s): ours %s/%s", ch[0], ch[1], rep.Indication, rep.Signatures[0].SubIndication)
				}
			}
			for _, ch := range tc.outside {
				changed := writeFile(t, filepath.Join(t.TempDir(), "signed.xml"), []byte(replaceOne(t, string(signed), ch[0], ch[1])))
				if rep := oursVerdict(t, changed, nil); rep.Indication != verify.TotalPassed {
					t.Errorf("change outside the signed set (%s → %s): ours %s %q", ch[0], ch[1], rep.Indication, rep.Signatures[0].Reasons)
				}
				// and xmlsec1 agrees that it does not matter
				if msg, err := exec.CommandContext(t.Context(), xmlsec, "--verify", "--pubkey-cert-pem", cert,
					"--id-attr:Id", "kwota", "--id-attr:Id", "odbiorca", changed).CombinedOutput(); err != nil && ch != sigText {
					t.Errorf("xmlsec1 rejects a change outside the signed set (%s → %s):\n%s", ch[0], ch[1], msg)
				}
			}
		})
	}
}

// A XAdES signature whose SignedProperties reference is URI="" intersected with
// //*[@Id='…']/etsi:QualifyingProperties/etsi:SignedProperties (the form of real XAdES 1.1.1 qualified
// signatures): our signature rewritten to that form and re-signed by xmlsec1 (which recomputes every digest) is a
// XAdES signature whose SignedProperties are covered; a change inside them breaks it, and a filter that selects
// more than the SignedProperties does not count as covering them.
func TestInteropXmlsecSignedPropertiesByXPathFilter(t *testing.T) {
	xmlsec, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv(interoptest.RequireEnv) == "1" {
			t.Fatal("xmlsec1 is not installed")
		}
		t.Skip("xmlsec1 is not installed")
	}
	p := testpki.New()
	keys := t.TempDir()
	key := interoptest.WriteKey(t, keys, "rsa.key", p.RSA.Key)
	cert := interoptest.WritePEM(t, keys, "rsa.pem", p.RSA.Cert)
	ours := signWith(t, strings.Replace(xpathDoc, "SIGNATURE", "", 1), p.RSA, xades.SignOptions{})
	ours = replaceOne(t, ours, "<ds:Object>", `<ds:Object Id="xades-obj">`)
	spRef := between(t, ours, `<ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="`, `"><ds:Transforms>`)
	rewrite := func(xpath string) string {
		return replaceOne(t, ours, spRef, `<ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI=""><ds:Transforms><ds:Transform Algorithm="`+
			xades.TransformFilter2+`"><f:XPath xmlns:f="`+xades.NSFilter2+`" xmlns:etsi="http://uri.etsi.org/01903/v1.3.2#" `+
			`Filter="intersect">`+xpath+`</f:XPath></ds:Transform>`)
	}
	resignXmlsec := func(t *testing.T, doc string) string {
		dir := t.TempDir()
		in, out := writeFile(t, filepath.Join(dir, "in.xml"), []byte(doc)), filepath.Join(dir, "out.xml")
		if msg, err := exec.CommandContext(t.Context(), xmlsec, "--sign", "--privkey-pem", key+","+cert, "--output", out, in).CombinedOutput(); err != nil {
			t.Fatalf("xmlsec1: %v\n%s", err, msg)
		}
		return out
	}
	t.Run("exactly the SignedProperties", func(t *testing.T) {
		out := resignXmlsec(t, rewrite(`//*[@Id='xades-obj']/etsi:QualifyingProperties/etsi:SignedProperties`))
		rep := oursVerdict(t, out, nil)
		if len(rep.Signatures) != 1 {
			t.Fatalf("%s %q", rep.Indication, rep.Error)
		}
		s := rep.Signatures[0]
		if s.Indication != verify.TotalPassed || s.Level != "XAdES-B-B" {
			t.Fatalf("ours: %s %s %q", s.Indication, s.Level, s.Reasons)
		}
		signed, _ := os.ReadFile(out)
		when := between(t, string(signed), "<xades:SigningTime>", "</xades:SigningTime>")
		bad := writeFile(t, filepath.Join(t.TempDir(), "bad.xml"), []byte(replaceOne(t, string(signed), when, "<xades:SigningTime>2020-01-01T00:00:00Z</xades:SigningTime>")))
		if rep := oursVerdict(t, bad, nil); rep.Indication != verify.TotalFailed || rep.Signatures[0].SubIndication != verify.HashFailure {
			t.Errorf("signing time changed inside the filtered SignedProperties: %s/%s", rep.Indication, rep.Signatures[0].SubIndication)
		}
	})
	t.Run("more than the SignedProperties", func(t *testing.T) {
		out := resignXmlsec(t, rewrite(`//*[@Id='xades-obj']/etsi:QualifyingProperties/etsi:SignedProperties | //*[@Id='payee']`))
		rep := oursVerdict(t, out, nil)
		if rep.Indication == verify.TotalPassed || !strings.Contains(strings.Join(rep.Signatures[0].Reasons, " "), "SignedProperties") {
			t.Errorf("ours: %s %q", rep.Indication, rep.Signatures[0].Reasons)
		}
	})
}
