package verify_test

import (
	"crypto/x509"
	"fmt"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// Validate an XML signature against a trust root.
func ExampleXML() {
	pki := testpki.New()
	signed, err := xades.Sign([]byte(`<a>tekst</a>`), xades.SignOptions{Signer: pki.RSA.Key, Certificate: pki.RSA.Cert, Chain: pki.RSA.Chain})
	if err != nil {
		panic(err)
	}
	rep := verify.XML("a.xml", signed, &verify.Policy{Roots: []*x509.Certificate{pki.Root}}, verify.XMLOptions{})
	fmt.Println(rep.Indication, rep.Signatures[0].Checks.Chain)

	// the same signature without the trust root: the math holds, the chain does not
	rep = verify.XML("a.xml", signed, &verify.Policy{}, verify.XMLOptions{})
	fmt.Println(rep.Indication, rep.Signatures[0].SubIndication, rep.Signatures[0].Checks.SignatureValue)
	// Output:
	// TOTAL_PASSED passed
	// INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND passed
}

// Show a report's reasons in Polish: every reason has a code and parameters (ReasonCodes) besides its English text.
func ExampleMessage_Text() {
	pki := testpki.New()
	signed, err := xades.Sign([]byte(`<a>tekst</a>`), xades.SignOptions{Signer: pki.RSA.Key, Certificate: pki.RSA.Cert, Chain: pki.RSA.Chain})
	if err != nil {
		panic(err)
	}
	rep := verify.XML("a.xml", signed, &verify.Policy{}, verify.XMLOptions{})
	s := rep.Signatures[0]
	fmt.Println(s.ReasonCodes[0].Code)
	fmt.Println(s.Reasons[0])
	fmt.Println(s.ReasonCodes[0].Text("pl"))
	fmt.Println(s.CoveredCodes[0].Text("pl"))
	// Output:
	// chain.noRoots
	// no trust roots configured
	// nie skonfigurowano zaufanych certyfikatów głównych
	// cały dokument <a>, z wyłączeniem elementów podpisu (liczba: 1)
}
