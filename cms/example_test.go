package cms_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/internal/testpki"
)

// The bytes a PDF signature covers: in a real PDF, the two parts of the ByteRange.
var byteRange = []byte("%PDF-1.7 ... everything except the /Contents placeholder ... %%EOF\n")

// A PAdES baseline B-B signature: the caller hashes the ByteRange, SignDetached makes the CMS for /Contents.
func ExampleSignDetached() {
	pki := testpki.New()
	sum := sha256.Sum256(byteRange)
	der, err := cms.SignDetached(sum[:], cms.SignOptions{
		Hash:        crypto.SHA256,
		Signer:      pki.EC256.Key,
		Certificate: pki.EC256.Cert,
		Chain:       pki.EC256.Chain,
		PAdES:       true, // contentType, messageDigest, signingCertificateV2; the time goes in /M
	})
	if err != nil {
		panic(err)
	}
	sd, err := cms.Parse(der)
	if err != nil {
		panic(err)
	}
	fmt.Println("signed attributes:", len(sd.SignerInfo.SignedAttributes))
	fmt.Println("signing-time attribute:", sd.SignerInfo.SigningTime != nil)
	fmt.Println("certificates:", len(sd.Certificates))
	// Output:
	// signed attributes: 3
	// signing-time attribute: false
	// certificates: 2
}

// A CAdES signature with a signing-time attribute, hashing the content as a stream.
func ExampleSignDetachedReader() {
	pki := testpki.New()
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	der, err := cms.SignDetachedReader(bytes.NewReader(byteRange), cms.SignOptions{
		Hash:        crypto.SHA384,
		Signer:      pki.RSA.Key,
		Certificate: pki.RSA.Cert,
		SigningTime: &when,
	})
	if err != nil {
		panic(err)
	}
	sd, _ := cms.Parse(der)
	fmt.Println(sd.SignerInfo.DigestAlgorithm, sd.SignerInfo.SigningTime.Format(time.RFC3339))
	// Output: SHA-384 2026-01-02T03:04:05Z
}

// A PDF /Contents string decodes to the CMS followed by the zero padding of the placeholder.
func ExampleParse() {
	pki := testpki.New()
	der, _ := cms.SignDetachedReader(bytes.NewReader(byteRange), cms.SignOptions{Signer: pki.RSA.Key, Certificate: pki.RSA.Cert, PAdES: true})
	contents := append(der, make([]byte, 1000)...) // as decoded from /Contents <...>

	sd, err := cms.Parse(contents)
	if err != nil {
		panic(err)
	}
	fmt.Println("padding:", sd.TrailingZeros)
	fmt.Println("signature algorithm:", sd.SignerInfo.SignatureAlgorithm)
	fmt.Println("signingCertificateV2 entries:", len(sd.SignerInfo.SigningCertificateV2.Certs))

	// Anything else after the object is refused.
	_, err = cms.Parse(append(der, "%%EOF"...))
	fmt.Println(err != nil)
	// Output:
	// padding: 1000
	// signature algorithm: rsaEncryption
	// signingCertificateV2 entries: 1
	// true
}

// Verify reports facts; the content digest comes from a callback, so that a PDF verifier can hash the ByteRange
// as a stream once it knows which hash the signature uses.
func ExampleSignedData_Verify() {
	pki := testpki.New()
	der, _ := cms.SignDetachedReader(bytes.NewReader(byteRange), cms.SignOptions{Signer: pki.RSA.Key, Certificate: pki.RSA.Cert, PAdES: true})
	sd, _ := cms.Parse(der)

	res, err := sd.Verify(func(h crypto.Hash) ([]byte, error) {
		return cms.DigestReader(bytes.NewReader(byteRange), h)
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Algorithm, res.Level)
	fmt.Println("digest:", res.DigestOK, "signature:", res.SignatureOK, "DigestInfo:", res.DigestInfoForm)
	fmt.Println("signing certificate:", res.SigningCertificateRef, res.SigningCertificateMatch)
	fmt.Println("problems:", res.Problems())

	// The same signature over other bytes.
	res, _ = sd.Verify(cms.DigestOf([]byte("another document")))
	fmt.Println("problems:", res.Problems())
	// Output:
	// RSA-SHA256 PAdES baseline
	// digest: true signature: true DigestInfo: with NULL
	// signing certificate: v2 true
	// problems: []
	// problems: [message digest does not match the content]
}

// The signer certificate is found by the SignerInfo's sid, never by "whichever key verifies".
func ExampleSignedData_SignerCertificate() {
	pki := testpki.New()
	der, _ := cms.SignDetachedReader(bytes.NewReader(byteRange), cms.SignOptions{Signer: pki.EC384.Key,
		Certificate: pki.EC384.Cert, Chain: pki.EC384.Chain, Hash: crypto.SHA384, PAdES: true})
	sd, _ := cms.Parse(der)
	cert, err := sd.SignerCertificate()
	fmt.Println(cert.Equal(pki.EC384.Cert), err)
	// Output: true <nil>
}

// The signingCertificateV2 entry names exactly one certificate.
func ExampleESSCertID_Matches() {
	pki := testpki.New()
	der, _ := cms.SignDetachedReader(bytes.NewReader(byteRange), cms.SignOptions{Signer: pki.RSA.Key, Certificate: pki.RSA.Cert, PAdES: true})
	sd, _ := cms.Parse(der)
	ref := sd.SignerInfo.SigningCertificateV2.Certs[0]
	fmt.Println(ref.Matches(pki.RSA.Cert), ref.Matches(pki.RSASameSubject.Cert))
	// Output: true false
}

func ExampleDigestOf() {
	d, _ := cms.DigestOf([]byte("abc"))(crypto.SHA256)
	fmt.Printf("%x\n", d[:4])
	// Output: ba7816bf
}

func ExampleDigestReader() {
	d, _ := cms.DigestReader(bytes.NewReader([]byte("abc")), crypto.SHA256)
	fmt.Printf("%x\n", d[:4])
	// Output: ba7816bf
}

// Problems lists failed checks with fixed messages; nil means the CMS is cryptographically intact.
func ExampleResult_Problems() {
	pki := testpki.New()
	der, _ := cms.SignDetachedReader(bytes.NewReader(byteRange), cms.SignOptions{Signer: pki.WeakRSA.Key, Certificate: pki.WeakRSA.Cert, PAdES: true})
	sd, _ := cms.Parse(der)
	res, _ := sd.Verify(cms.DigestOf(byteRange))
	fmt.Println(res.Problems() == nil, res.Weak) // weak keys are policy, not a cryptographic failure
	// Output: true [RSA-1024]
}

// VerifyDetached checks every SignerInfo, streaming the content once through all the digests they need. Here an
// Ed25519 signature (RFC 8419: SHA-512 message digest, PureEdDSA over the signed attributes).
func ExampleSignedData_VerifyDetached() {
	pki := testpki.New()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	id, _ := pki.IssueIdentity(testpki.LeafTemplate(pkix.Name{CommonName: "Ed25519 example"}), key)
	der, err := cms.SignDetachedReader(bytes.NewReader(byteRange), cms.SignOptions{Signer: key, Certificate: id.Cert, Chain: id.Chain, PAdES: true})
	if err != nil {
		panic(err)
	}
	sd, _ := cms.Parse(der)

	results, err := sd.VerifyDetached(func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(byteRange))
		return err
	})
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		fmt.Println(r.SignerIndex, r.Algorithm, r.DigestAlgorithm, r.Problems(), r.UnsupportedAlgorithm == "")
	}
	// Output: 0 Ed25519 SHA-512 [] true
}

// VerifyEncapsulated checks the SignerInfos against the content the SignedData carries (adbe.pkcs7.sha1 PDF
// signatures encapsulate the document's SHA-1 digest); a detached SignedData has none.
func ExampleSignedData_VerifyEncapsulated() {
	pki := testpki.New()
	der, _ := cms.SignDetachedReader(bytes.NewReader(byteRange), cms.SignOptions{Signer: pki.RSA.Key, Certificate: pki.RSA.Cert, PAdES: true})
	sd, _ := cms.Parse(der)
	_, err := sd.VerifyEncapsulated()
	fmt.Println(sd.EContent == nil, errors.Is(err, cms.ErrNotEncapsulated))
	// Output: true true
}

// ParseCertificate reads what crypto/x509 reads, and also certificates with Brainpool, Ed448 or otherwise
// unknown elliptic-curve keys (EU eID cards, German qualified CAs).
func ExampleParseCertificate() {
	pki := testpki.New()
	cert, err := cms.ParseCertificate(pki.EC256.Cert.Raw)
	fmt.Println(cert.Subject.CommonName, cert.PublicKeyAlgorithm, err)
	// Output: Pieczęć podpisu zaufanego (test EC P-256) ECDSA <nil>
}
