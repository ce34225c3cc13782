// Package testpki generates, in code, a small test PKI for trustsign's tests: a root CA, an intermediate CA and
// signer certificates issued by the intermediate (RSA-3072, ECDSA P-256, ECDSA P-384 and a deliberately weak
// RSA-1024), plus an unrelated self-signed "attacker" certificate and a second RSA signer with the same subject but
// a different key, for certificate-swap tests.
//
// The shared PKI's certificates carry no revocation information; Responders (PKI.Revocation) adds an in-process
// OCSP responder and CRL server on loopback, with named failure modes, and issues certificates that point at them.
//
// It is for tests only: keys are generated in memory without any protection, and nothing here is suitable for a
// real deployment. Key generation is slow (RSA-3072), so New
// returns one PKI shared by the whole test binary; Fresh makes a new one.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Subject is the distinguished name of the RSA signer, shared with the RSASameSubject signer. The Polish letters in
// the common name exercise UTF8String handling in DNs.
var Subject = pkix.Name{
	Country:      []string{"PL"},
	Organization: []string{"Ministerstwo Testowe"},
	CommonName:   "Pieczęć podpisu zaufanego (test)",
}

// Identity is a signing identity: a certificate, its private key and the chain to present with it.
type Identity struct {
	// Cert is the signer certificate.
	Cert *x509.Certificate
	// Key is the private key matching Cert.
	Key crypto.Signer
	// Chain is the certificate chain without the root: the leaf first, then the intermediate CA (for a
	// self-signed certificate, only the certificate itself).
	Chain []*x509.Certificate
}

// PKI is a generated test PKI. All signer identities except Attacker are issued by Intermediate, which is issued by
// Root.
type PKI struct {
	// Root is the self-signed root CA (RSA-3072).
	Root *x509.Certificate
	// RootKey is Root's private key.
	RootKey crypto.Signer
	// Intermediate is the intermediate CA (RSA-3072, path length 0), issued by Root.
	Intermediate *x509.Certificate
	// IntermediateKey is Intermediate's private key.
	IntermediateKey crypto.Signer

	// RSA is the main signer: RSA-3072, subject Subject.
	RSA Identity
	// EC256 is an ECDSA P-256 signer.
	EC256 Identity
	// EC384 is an ECDSA P-384 signer.
	EC384 Identity
	// WeakRSA is an RSA-1024 signer, for algorithm-policy tests.
	WeakRSA Identity
	// Attacker is a self-signed RSA-2048 certificate unrelated to Root.
	Attacker Identity
	// RSASameSubject has the same subject as RSA but a different key (RSA-3072) and serial number, for
	// certificate-swap tests.
	RSASameSubject Identity
}

var (
	shared     *PKI
	sharedErr  error
	sharedOnce sync.Once
)

// New returns the test PKI shared by the whole process, generating it on first use. It panics if generation
// fails, which only happens when the system's random source fails. Callers must not modify the returned PKI.
func New() *PKI {
	sharedOnce.Do(func() { shared, sharedErr = Fresh() })
	if sharedErr != nil {
		panic("testpki: " + sharedErr.Error())
	}
	return shared
}

// Fresh generates a new, independent test PKI. Validity periods run from one hour ago to two years from now.
func Fresh() (*PKI, error) {
	keys, err := generateKeys()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	notBefore, notAfter := now.Add(-time.Hour), now.AddDate(2, 0, 0)

	p := &PKI{RootKey: keys.root, IntermediateKey: keys.inter}

	root := &x509.Certificate{
		Subject:               name("Trustsign Test Root CA"),
		NotBefore:             notBefore,
		NotAfter:              notAfter.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if p.Root, err = create(root, root, keys.root.Public(), keys.root); err != nil {
		return nil, fmt.Errorf("root CA: %w", err)
	}

	inter := &x509.Certificate{
		Subject:               name("Trustsign Test Intermediate CA"),
		NotBefore:             notBefore,
		NotAfter:              notAfter.AddDate(0, 6, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	if p.Intermediate, err = create(inter, p.Root, keys.inter.Public(), keys.root); err != nil {
		return nil, fmt.Errorf("intermediate CA: %w", err)
	}

	leaves := []struct {
		id      *Identity
		subject pkix.Name
		key     crypto.Signer
	}{
		{&p.RSA, Subject, keys.rsa},
		{&p.RSASameSubject, Subject, keys.rsaSame},
		{&p.EC256, name("Pieczęć podpisu zaufanego (test EC P-256)"), keys.ec256},
		{&p.EC384, name("Pieczęć podpisu zaufanego (test EC P-384)"), keys.ec384},
		{&p.WeakRSA, name("Pieczęć podpisu zaufanego (test RSA-1024)"), keys.weak},
	}
	for _, l := range leaves {
		tmpl := LeafTemplate(l.subject)
		tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
		id, err := p.IssueIdentity(tmpl, l.key)
		if err != nil {
			return nil, fmt.Errorf("leaf %q: %w", l.subject.CommonName, err)
		}
		*l.id = id
	}

	attacker := LeafTemplate(pkix.Name{
		Country:      []string{"PL"},
		Organization: []string{"Atakujący"},
		CommonName:   "Attacker (test, self-signed)",
	})
	attacker.NotBefore, attacker.NotAfter = notBefore, notAfter
	attackerCert, err := create(attacker, attacker, keys.attacker.Public(), keys.attacker)
	if err != nil {
		return nil, fmt.Errorf("attacker: %w", err)
	}
	p.Attacker = Identity{Cert: attackerCert, Key: keys.attacker, Chain: []*x509.Certificate{attackerCert}}
	return p, nil
}

// LeafTemplate returns a signer certificate template with the given subject: not a CA, keyUsage
// digitalSignature+nonRepudiation, valid from one hour ago to two years from now. Change it and pass it to Issue to
// make unusual certificates (expired, not yet valid, without keyUsage, ...).
func LeafTemplate(subject pkix.Name) *x509.Certificate {
	now := time.Now()
	return &x509.Certificate{
		Subject:               subject,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
	}
}

// Issue makes a certificate for key's public key from tmpl, issued and signed by p.Intermediate. tmpl is used as
// given, except that a nil SerialNumber is replaced by a random 128-bit serial and a zero NotBefore/NotAfter by
// one hour ago/two years from now. tmpl itself is not modified.
func (p *PKI) Issue(tmpl *x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	return create(tmpl, p.Intermediate, key.Public(), p.IntermediateKey)
}

// IssueIdentity is Issue returning an Identity whose chain is the new certificate and p.Intermediate.
func (p *PKI) IssueIdentity(tmpl *x509.Certificate, key crypto.Signer) (Identity, error) {
	cert, err := p.Issue(tmpl, key)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Cert: cert, Key: key, Chain: []*x509.Certificate{cert, p.Intermediate}}, nil
}

// Roots returns a new pool holding only p.Root.
func (p *PKI) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root)
	return pool
}

// Intermediates returns a new pool holding only p.Intermediate.
func (p *PKI) Intermediates() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Intermediate)
	return pool
}

// Identities returns the signer identities by the base file name WriteDir uses for them: "rsa", "ec", "ec384",
// "weak", "attacker" and "rsa-same-subject".
func (p *PKI) Identities() map[string]Identity {
	return map[string]Identity{
		"rsa":              p.RSA,
		"ec":               p.EC256,
		"ec384":            p.EC384,
		"weak":             p.WeakRSA,
		"attacker":         p.Attacker,
		"rsa-same-subject": p.RSASameSubject,
	}
}

// WriteDir writes the PKI as PEM files into dir, which must exist: root.pem and root.key, inter.pem and inter.key,
// and for each name of Identities NAME.key (PKCS#8), NAME.pem (the certificate alone) and NAME-chain.pem (the
// certificate, then the intermediate). These names fit the ../shared/interop tools: --trust root.pem
// --untrusted inter.pem.
func (p *PKI) WriteDir(dir string) error {
	files := map[string][]byte{
		"root.pem":  CertsPEM(p.Root),
		"inter.pem": CertsPEM(p.Intermediate),
	}
	keys := map[string]crypto.Signer{"root": p.RootKey, "inter": p.IntermediateKey}
	for base, id := range p.Identities() {
		files[base+".pem"] = CertsPEM(id.Cert)
		files[base+"-chain.pem"] = CertsPEM(id.Chain...)
		keys[base] = id.Key
	}
	for base, key := range keys {
		b, err := KeyPEM(key)
		if err != nil {
			return fmt.Errorf("testpki: %s.key: %w", base, err)
		}
		files[base+".key"] = b
	}
	for file, b := range files {
		mode := os.FileMode(0o644)
		if filepath.Ext(file) == ".key" {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(dir, file), b, mode); err != nil {
			return fmt.Errorf("testpki: %w", err)
		}
	}
	return nil
}

// CertsPEM encodes certificates as concatenated PEM "CERTIFICATE" blocks.
func CertsPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// KeyPEM encodes a private key as a PEM "PRIVATE KEY" block (PKCS#8).
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// SerialNumber returns a random positive serial number of at most 128 bits.
func SerialNumber() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, err
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

func name(cn string) pkix.Name {
	return pkix.Name{Country: []string{"PL"}, Organization: []string{"Ministerstwo Testowe"}, CommonName: cn}
}

// create signs a copy of tmpl with parentKey, filling a missing serial and validity.
func create(tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) (*x509.Certificate, error) {
	t := *tmpl
	if t.SerialNumber == nil {
		serial, err := SerialNumber()
		if err != nil {
			return nil, err
		}
		t.SerialNumber = serial
	}
	if t.NotBefore.IsZero() {
		t.NotBefore = time.Now().Add(-time.Hour)
	}
	if t.NotAfter.IsZero() {
		t.NotAfter = time.Now().AddDate(2, 0, 0)
	}
	if parent == tmpl {
		parent = &t
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

type generatedKeys struct {
	root, inter, rsa, rsaSame, weak, attacker crypto.Signer
	ec256, ec384                              crypto.Signer
}

// generateKeys makes all keys concurrently: RSA-3072 generation dominates and parallelises well.
func generateKeys() (*generatedKeys, error) {
	var k generatedKeys
	jobs := []struct {
		dst *crypto.Signer
		gen func() (crypto.Signer, error)
	}{
		{&k.root, rsaKey(3072)},
		{&k.inter, rsaKey(3072)},
		{&k.rsa, rsaKey(3072)},
		{&k.rsaSame, rsaKey(3072)},
		{&k.attacker, rsaKey(2048)},
		{&k.weak, rsaKey(1024)},
		{&k.ec256, ecKey(elliptic.P256())},
		{&k.ec384, ecKey(elliptic.P384())},
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { *j.dst, errs[i] = j.gen() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("testpki: generating keys: %w", err)
	}
	return &k, nil
}

func rsaKey(bits int) func() (crypto.Signer, error) {
	return func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, bits) }
}

func ecKey(curve elliptic.Curve) func() (crypto.Signer, error) {
	return func() (crypto.Signer, error) { return ecdsa.GenerateKey(curve, rand.Reader) }
}
