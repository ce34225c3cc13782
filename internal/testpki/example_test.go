package testpki_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/internal/testpki"
)

func Example() {
	p := testpki.New()

	// Sign with the RSA signer and check the signature with its certificate.
	digest := sha256.Sum256([]byte("dokument"))
	sig, err := p.RSA.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		panic(err)
	}
	fmt.Println("signature ok:", p.RSA.Cert.CheckSignature(x509.SHA256WithRSA, []byte("dokument"), sig) == nil)

	// The signer chains to the root; the attacker does not.
	opts := x509.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	_, err = p.RSA.Cert.Verify(opts)
	fmt.Println("RSA signer trusted:", err == nil)
	_, err = p.Attacker.Cert.Verify(opts)
	fmt.Println("attacker trusted:", err == nil)
	fmt.Println(p.RSA.Cert.Subject.CommonName)
	// Output:
	// signature ok: true
	// RSA signer trusted: true
	// attacker trusted: false
	// Pieczęć podpisu zaufanego (test)
}

func ExamplePKI_Issue() {
	p := testpki.New()
	tmpl := testpki.LeafTemplate(testpki.Subject)
	tmpl.NotBefore = time.Now().AddDate(-3, 0, 0)
	tmpl.NotAfter = time.Now().AddDate(-1, 0, 0)
	expired, err := p.Issue(tmpl, p.EC256.Key)
	if err != nil {
		panic(err)
	}
	_, err = expired.Verify(x509.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	fmt.Println(err != nil)
	// Output: true
}

func ExamplePKI_WriteDir() {
	dir, err := os.MkdirTemp("", "testpki")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := testpki.New().WriteDir(dir); err != nil {
		panic(err)
	}
	_, err = os.Stat(dir + "/rsa-chain.pem")
	fmt.Println(err == nil)
	// Output: true
}

func ExamplePKI_StartRevocation() {
	p := testpki.New()
	r, err := p.StartRevocation(testpki.RevocationGood) // in a test: p.Revocation(t, testpki.RevocationGood)
	if err != nil {
		panic(err)
	}
	defer r.Close()

	// A signer whose certificate names the responders (AIA OCSP and caIssuers, CRL distribution point).
	signer, err := r.Signer()
	if err != nil {
		panic(err)
	}
	fmt.Println(signer.Cert.OCSPServer[0] == r.URLs.OCSP, signer.Cert.CRLDistributionPoints[0] == r.URLs.IntermediateCRL)

	status := func() int {
		der, err := r.OCSPResponse(signer.Cert) // what the responder at r.URLs.OCSP answers now
		if err != nil {
			panic(err)
		}
		resp, err := ocsp.ParseResponseForCert(der, signer.Cert, r.Intermediate)
		if err != nil {
			panic(err)
		}
		return resp.Status
	}
	fmt.Println(status() == ocsp.Good)

	// Revoke it at run time: the responder and the CRL now say so.
	r.SetRevokedAt(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	r.SetMode(testpki.RevocationRevoked)
	fmt.Println(status() == ocsp.Revoked)
	// Output:
	// true true
	// true
	// true
}
