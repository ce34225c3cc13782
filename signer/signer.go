// Package signer is the signing-key side of trustsign: it loads the service's private key and certificates from PEM
// files and binds them into a Seal, refusing keys that do not match their certificate or that are too weak for a
// qualified electronic seal (anything but RSA of at least 2048 bits or ECDSA on P-256, P-384 or P-521).
//
// Keys are crypto.Signer values, so a Seal holds a software key loaded from PEM or a key in a PKCS#11 token
// (PKCS11Key, named by an RFC 7512 URI, opened through a pool of sessions; every signature it makes is checked
// against the certificate before use; a build without cgo refuses it). LoadSeal takes either; KeyMonitor makes the
// periodic test signature that tells a service whether its key signs now. The admin commands that make a key in a
// token use crypto11 directly (cmd/trustsign).
//
// It is not a signature format: building XAdES or PAdES signatures is the job of the xades and pades packages,
// which take a Seal's key and certificates. It does not validate certificates either: expiry, revocation and
// trust are the verify package's concern. Encrypted key files are not supported; keep the key file readable only
// by the service, or use a hardware key.
package signer

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/internal/keyusage"
)

// Errors returned by this package. They are wrapped with details; test for them with errors.Is.
var (
	// ErrNoPEM means the input holds no PEM block of the expected kind.
	ErrNoPEM = errors.New("signer: no PEM data found")
	// ErrEncryptedKey means the private key is encrypted (PKCS#8 "ENCRYPTED PRIVATE KEY" or a legacy
	// "Proc-Type: 4,ENCRYPTED" block).
	ErrEncryptedKey = errors.New("signer: encrypted keys are not supported")
	// ErrInvalidKey means a private key block could not be parsed, or the PEM data is not a single private key.
	ErrInvalidKey = errors.New("signer: invalid private key")
	// ErrUnsupportedKey means the key is of a type or size trustsign does not sign with.
	ErrUnsupportedKey = errors.New("signer: unsupported key")
	// ErrInvalidCertificate means a certificate block could not be parsed.
	ErrInvalidCertificate = errors.New("signer: invalid certificate")
	// ErrKeyMismatch means the private key does not belong to the signer certificate.
	ErrKeyMismatch = errors.New("signer: private key does not match the certificate")
	// ErrChainOrder means the certificates are not an issuance path (each one issued by the next).
	ErrChainOrder = errors.New("signer: certificates are not in chain order")
	// ErrKeyUsage means the signer certificate's key usage or extended key usage does not allow document
	// signatures: verifiers would refuse every signature made with it.
	ErrKeyUsage = errors.New("signer: the certificate may not sign documents")
)

// Seal is the service's signing identity: a private key, its certificate and the chain to embed in signatures.
type Seal struct {
	// Key signs. Its public key is Certificate's.
	Key crypto.Signer
	// Certificate is the signer certificate.
	Certificate *x509.Certificate
	// Chain holds the certificates to embed in signatures: Certificate first, then each issuer in turn (usually
	// the intermediate CAs, optionally ending with the root).
	Chain []*x509.Certificate
}

// NewSeal binds key to certs, which must start with the signer certificate followed by its issuers in order. It
// refuses a key that is not RSA of at least 2048 bits or ECDSA on P-256, P-384 or P-521 (ErrUnsupportedKey), a key
// that does not match certs[0] (ErrKeyMismatch), and certificates that are not an issuance path (ErrChainOrder).
// It refuses a signer certificate whose key usage does not allow document signatures (ErrKeyUsage). It does not
// check validity periods or trust.
func NewSeal(key crypto.Signer, certs []*x509.Certificate) (*Seal, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no private key", ErrUnsupportedKey)
	}
	if len(certs) == 0 || certs[0] == nil {
		return nil, fmt.Errorf("%w: no signer certificate", ErrInvalidCertificate)
	}
	if err := CheckKey(key.Public()); err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(certs[0].PublicKey) {
		return nil, fmt.Errorf("%w: the key is %s, the certificate %q has %s", ErrKeyMismatch,
			describeKey(key.Public()), certs[0].Subject, describeKey(certs[0].PublicKey))
	}
	if err := keyusage.ForDocuments(certs[0]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyUsage, err)
	}
	for i := 1; i < len(certs); i++ {
		if certs[i] == nil {
			return nil, fmt.Errorf("%w: certificate %d is nil", ErrInvalidCertificate, i+1)
		}
		if err := certs[i-1].CheckSignatureFrom(certs[i]); err != nil {
			return nil, fmt.Errorf("%w: certificate %d (%q) was not issued by certificate %d (%q): %v",
				ErrChainOrder, i, certs[i-1].Subject, i+1, certs[i].Subject, err)
		}
	}
	return &Seal{Key: key, Certificate: certs[0], Chain: append([]*x509.Certificate(nil), certs...)}, nil
}

// CheckKey reports whether pub is a public key trustsign signs with: RSA of at least 2048 bits, or ECDSA on P-256,
// P-384 or P-521. The error wraps ErrUnsupportedKey.
func CheckKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("%w: %s is too weak (need RSA of at least 2048 bits, or ECDSA P-256/P-384/P-521)",
				ErrUnsupportedKey, describeKey(k))
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
	}
	return fmt.Errorf("%w: %s (need RSA of at least 2048 bits, or ECDSA P-256/P-384/P-521)",
		ErrUnsupportedKey, describeKey(pub))
}

// LoadPrivateKey parses a PEM-encoded RSA or ECDSA private key: "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY"
// (PKCS#1) or "EC PRIVATE KEY" (SEC 1, optionally preceded by an "EC PARAMETERS" block as written by
// `openssl ecparam -genkey`). Text outside PEM blocks is ignored. The data must hold exactly one private key and
// no other PEM blocks. Encrypted keys are refused with ErrEncryptedKey. It does not apply NewSeal's key-size policy.
func LoadPrivateKey(pemBytes []byte) (crypto.Signer, error) {
	var key crypto.Signer
	found := false
	for rest := pemBytes; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == "EC PARAMETERS" {
			continue
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || bytes.Contains([]byte(block.Headers["Proc-Type"]), []byte("ENCRYPTED")) {
			return nil, fmt.Errorf("%w (%q block); decrypt it first, e.g. with `openssl pkey`", ErrEncryptedKey, block.Type)
		}
		if found {
			return nil, fmt.Errorf("%w: more than one PEM block (second is %q); expected a single private key", ErrInvalidKey, block.Type)
		}
		k, err := parseKeyBlock(block)
		if err != nil {
			return nil, err
		}
		key, found = k, true
	}
	if !found {
		return nil, fmt.Errorf("%w: expected a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block", ErrNoPEM)
	}
	return key, nil
}

func parseKeyBlock(block *pem.Block) (crypto.Signer, error) {
	var (
		parsed any
		err    error
	)
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: unexpected PEM block %q; expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY", ErrInvalidKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidKey, block.Type, err)
	}
	switch k := parsed.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("%w: %s key type %s; only RSA and ECDSA keys are supported", ErrUnsupportedKey, block.Type, describeKey(parsed))
}

// LoadCertificates parses one or more PEM "CERTIFICATE" blocks, in order. Text outside PEM blocks is ignored; a PEM
// block of any other type is an error, as is data without any certificate (ErrNoPEM).
func LoadCertificates(pemBytes []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := pemBytes; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: unexpected PEM block %q; expected only CERTIFICATE blocks", ErrInvalidCertificate, block.Type)
		}
		// cms.ParseCertificate also reads what crypto/x509 refuses but real trust lists hold (Brainpool keys, as
		// German and other EU CAs use)
		c, err := cms.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %v", ErrInvalidCertificate, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: expected at least one CERTIFICATE block", ErrNoPEM)
	}
	return certs, nil
}

// LoadSealFiles reads a private key (see LoadPrivateKey) from keyPath and certificates (see LoadCertificates) from
// certPath, then from each chainPaths file in turn, and binds them with NewSeal. certPath must start with the
// signer certificate; it may also hold the chain, in which case chainPaths can be omitted.
func LoadSealFiles(keyPath, certPath string, chainPaths ...string) (*Seal, error) {
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("signer: reading key: %w", err)
	}
	key, err := LoadPrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	var certs []*x509.Certificate
	for _, path := range append([]string{certPath}, chainPaths...) {
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
	seal, err := NewSeal(key, certs)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", keyPath, certPath, err)
	}
	return seal, nil
}

// describeKey names a key's type and size for error messages, e.g. "RSA-1024" or "ECDSA P-224".
func describeKey(k any) string {
	switch k := k.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *rsa.PrivateKey:
		return describeKey(&k.PublicKey)
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *ecdsa.PrivateKey:
		return describeKey(&k.PublicKey)
	case ed25519.PublicKey, ed25519.PrivateKey:
		return "Ed25519"
	case *ecdh.PrivateKey:
		return "ECDH " + fmt.Sprint(k.Curve())
	case *ecdh.PublicKey:
		return "ECDH " + fmt.Sprint(k.Curve())
	case nil:
		return "no key"
	}
	return fmt.Sprintf("%T", k)
}
