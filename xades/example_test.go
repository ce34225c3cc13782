package xades_test

import (
	"fmt"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/xades"
)

// Sign a document enveloped, bound to a trusted profile, and check it.
func ExampleSign() {
	seal := testpki.New().RSA
	doc := []byte(`<recepta xmlns="urn:example"><lek>Amoxicillinum 500 mg</lek></recepta>`)
	signed, err := xades.Sign(doc, xades.SignOptions{
		Format:      xades.Enveloped,
		Signer:      seal.Key,
		Certificate: seal.Cert,
		SigningTime: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Profile:     &xades.Profile{FirstName: "ANNA", Surname: "TESTOWA", PESEL: "44051401359", ProfileID: "987654321", Login: "atestowa"},
	})
	if err != nil {
		panic(err)
	}
	res, err := xades.Verify(signed, xades.VerifyOptions{})
	if err != nil {
		panic(err)
	}
	s := res.Signatures[0]
	fmt.Println(s.SignatureValid, s.References[0].Covered, s.Profile.PESEL, s.SigningTime.Format(time.RFC3339))
	// Output: true whole document <recepta>, excluding 1 signature element(s) 44051401359 2026-12-01T10:00:00Z
}

// Wrap a non-XML file so that it can be signed enveloped.
func ExampleWrap() {
	container := xades.Wrap("scan.png", "image/png", []byte{0x89, 'P', 'N', 'G'})
	w, err := xades.Unwrap(container)
	if err != nil {
		panic(err)
	}
	fmt.Println(w.Name, w.MIMEType, len(w.Content))
	// Output: scan.png image/png 4
}

// Verify a detached signature: the content is handed in by the caller, never read from disk or network.
func ExampleVerify() {
	seal := testpki.New().EC256
	content := []byte("any bytes at all")
	sig, err := xades.Sign(content, xades.SignOptions{Format: xades.Detached, DetachedURI: "data.bin", Signer: seal.Key, Certificate: seal.Cert})
	if err != nil {
		panic(err)
	}
	res, _ := xades.Verify(sig, xades.VerifyOptions{Detached: map[string][]byte{"data.bin": content}})
	fmt.Println(res.Signatures[0].SignatureValid, res.Signatures[0].References[0].Status == xades.RefOK)
	res, _ = xades.Verify(sig, xades.VerifyOptions{})
	fmt.Println(res.Signatures[0].References[0].Status == xades.RefNotFound)
	// Output:
	// true true
	// true
}

// Read a signed container's file through the signature that verified it (SignatureResult.Wrapped), not from the
// document as parsed.
func ExampleSignatureResult_wrapped() {
	seal := testpki.New().RSA
	container := xades.Wrap("umowa.pdf", "application/pdf", []byte("%PDF-1.7 ..."))
	signed, err := xades.Sign(container, xades.SignOptions{Signer: seal.Key, Certificate: seal.Cert, RSAPSS: true})
	if err != nil {
		panic(err)
	}
	res, err := xades.Verify(signed, xades.VerifyOptions{})
	if err != nil {
		panic(err)
	}
	s := res.Signatures[0]
	fmt.Println(s.Algorithm, s.SignatureValid, s.Wrapped.Name, s.Wrapped.MIMEType, string(s.Wrapped.Content))
	// Output: RSASSA-PSS-SHA256 true umowa.pdf application/pdf %PDF-1.7 ...
}
