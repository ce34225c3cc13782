package signer_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/signer"
)

func ExampleLoadSealFiles() {
	dir, err := os.MkdirTemp("", "seal")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := testpki.New().WriteDir(dir); err != nil { // rsa.key, rsa.pem, inter.pem, ...
		panic(err)
	}

	seal, err := signer.LoadSealFiles(filepath.Join(dir, "rsa.key"), filepath.Join(dir, "rsa.pem"), filepath.Join(dir, "inter.pem"))
	if err != nil {
		panic(err)
	}
	digest := sha256.Sum256([]byte("dokument"))
	sig, err := seal.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		panic(err)
	}
	fmt.Println(seal.Certificate.Subject.CommonName)
	fmt.Println("chain length:", len(seal.Chain))
	fmt.Println("verifies:", seal.Certificate.CheckSignature(x509.SHA256WithRSA, []byte("dokument"), sig) == nil)
	// Output:
	// Pieczęć podpisu zaufanego (test)
	// chain length: 2
	// verifies: true
}

func ExampleNewSeal() {
	p := testpki.New()

	_, err := signer.NewSeal(p.RSA.Key, p.RSASameSubject.Chain)
	fmt.Println(errors.Is(err, signer.ErrKeyMismatch))

	_, err = signer.NewSeal(p.WeakRSA.Key, p.WeakRSA.Chain)
	fmt.Println(err)
	// Output:
	// true
	// signer: unsupported key: RSA-1024 is too weak (need RSA of at least 2048 bits, or ECDSA P-256/P-384/P-521)
}

func ExampleLoadPrivateKey() {
	_, err := signer.LoadPrivateKey([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	fmt.Println(errors.Is(err, signer.ErrEncryptedKey))
	// Output: true
}

func ExampleLoadCertificates() {
	p := testpki.New()
	certs, err := signer.LoadCertificates(testpki.CertsPEM(p.EC256.Chain...))
	if err != nil {
		panic(err)
	}
	for _, c := range certs {
		fmt.Println(c.Subject.CommonName)
	}
	// Output:
	// Pieczęć podpisu zaufanego (test EC P-256)
	// Trustsign Test Intermediate CA
}

func ExampleCheckKey() {
	p := testpki.New()
	fmt.Println(signer.CheckKey(p.EC384.Cert.PublicKey) == nil)
	// Output: true
}
