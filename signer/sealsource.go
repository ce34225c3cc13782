package signer

import (
	"crypto/x509"
	"fmt"
	"os"
)

// LoadSeal is LoadSealFiles for a key that is either a PEM file or a key in a PKCS#11 token named by an RFC 7512
// URI (see ParsePKCS11URI and OpenPKCS11): the certificate files are read first, and the token's key is opened
// with the signer certificate's public key, which checks every signature it makes. A build without cgo refuses a
// pkcs11: key with ErrPKCS11Unavailable.
func LoadSeal(keyRef, certPath string, chainPaths ...string) (*Seal, error) {
	if !IsPKCS11URI(keyRef) {
		return LoadSealFiles(keyRef, certPath, chainPaths...)
	}
	uri, err := ParsePKCS11URI(keyRef)
	if err != nil {
		return nil, err
	}
	if !PKCS11Available {
		return nil, ErrPKCS11Unavailable
	}
	certs, err := LoadCertificateFiles(append([]string{certPath}, chainPaths...)...)
	if err != nil {
		return nil, err
	}
	key, err := OpenPKCS11(uri, PKCS11Options{Public: certs[0].PublicKey})
	if err != nil {
		return nil, err
	}
	seal, err := NewSeal(key, certs)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", uri.label(), certPath, err)
	}
	return seal, nil
}

// LoadCertificateFiles reads the certificates of each PEM file in turn (see LoadCertificates).
func LoadCertificateFiles(paths ...string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("signer: reading certificates: %w", err)
		}
		c, err := LoadCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c...)
	}
	return certs, nil
}
