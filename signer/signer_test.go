package signer_test

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/signer"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// must returns v, panicking on err; for building fixtures, where an error is a bug in the test.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestLoadPrivateKey(t *testing.T) {
	p := testpki.New()
	rsaKey := p.RSA.Key.(*rsa.PrivateKey)
	ecKey := p.EC256.Key.(*ecdsa.PrivateKey)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519 := must(ecdh.X25519().GenerateKey(rand.Reader))
	ecParams := pemBlock("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})

	tests := []struct {
		name    string
		pem     []byte
		want    crypto.PublicKey
		wantErr error
		errText string
	}{
		{name: "RSA PKCS#8", pem: pemBlock("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(rsaKey))), want: rsaKey.Public()},
		{name: "RSA PKCS#1", pem: pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), want: rsaKey.Public()},
		{name: "EC PKCS#8", pem: pemBlock("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(ecKey))), want: ecKey.Public()},
		{name: "EC SEC1", pem: pemBlock("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(ecKey))), want: ecKey.Public()},
		{name: "EC SEC1 after EC PARAMETERS", pem: append(ecParams, pemBlock("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(ecKey)))...), want: ecKey.Public()},
		{name: "text around the block", pem: []byte("Bag Attributes\n    localKeyID: 01\n" + string(pemBlock("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(ecKey)))) + "trailer\n"), want: ecKey.Public()},
		{name: "weak RSA still loads", pem: pemBlock("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(p.WeakRSA.Key))), want: p.WeakRSA.Key.Public()},

		{name: "empty", pem: nil, wantErr: signer.ErrNoPEM},
		{name: "not PEM", pem: []byte("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"), wantErr: signer.ErrNoPEM},
		{name: "only EC PARAMETERS", pem: ecParams, wantErr: signer.ErrNoPEM},
		{name: "PKCS#8 encrypted", pem: pemBlock("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x00}), wantErr: signer.ErrEncryptedKey, errText: "encrypted keys are not supported"},
		{name: "legacy encrypted", pem: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
			Bytes:   []byte{1, 2, 3}}), wantErr: signer.ErrEncryptedKey},
		{name: "Ed25519", pem: pemBlock("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(edKey))), wantErr: signer.ErrUnsupportedKey, errText: "Ed25519"},
		{name: "X25519", pem: pemBlock("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(x25519))), wantErr: signer.ErrUnsupportedKey, errText: "X25519"},
		{name: "certificate instead of key", pem: testpki.CertsPEM(p.RSA.Cert), wantErr: signer.ErrInvalidKey, errText: `"CERTIFICATE"`},
		{name: "two keys", pem: append(pemBlock("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(ecKey))), pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))...), wantErr: signer.ErrInvalidKey, errText: "more than one"},
		{name: "corrupt PKCS#8", pem: pemBlock("PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x00}), wantErr: signer.ErrInvalidKey},
		{name: "PKCS#8 labelled PKCS#1", pem: pemBlock("RSA PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(rsaKey))), wantErr: signer.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := signer.LoadPrivateKey(tt.pem)
			checkErr(t, err, tt.wantErr, tt.errText)
			if tt.wantErr == nil && !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.want) {
				t.Error("loaded the wrong key")
			}
		})
	}
}

// TestLoadPrivateKeyOpenSSL loads keys written by the openssl command line, in the forms operators produce.
func TestLoadPrivateKeyOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed; CI installs it (.ci/run)")
	}
	dir := t.TempDir()
	tests := []struct {
		name    string
		cmds    [][]string // run in dir; the last one writes key.pem
		wantErr error
	}{
		{"genpkey RSA (PKCS#8)", [][]string{{"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem"}}, nil},
		{"genrsa -traditional (PKCS#1)", [][]string{{"genrsa", "-traditional", "-out", "key.pem", "2048"}}, nil},
		{"ecparam -genkey (EC PARAMETERS + SEC1)", [][]string{{"ecparam", "-name", "prime256v1", "-genkey", "-out", "key.pem"}}, nil},
		{"genpkey EC P-384 (PKCS#8)", [][]string{{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "key.pem"}}, nil},
		{"genpkey encrypted", [][]string{{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:test", "-out", "key.pem"}}, signer.ErrEncryptedKey},
		{"legacy encrypted PKCS#1", [][]string{
			{"genrsa", "-traditional", "-out", "plain.pem", "2048"},
			{"rsa", "-in", "plain.pem", "-traditional", "-aes256", "-passout", "pass:test", "-out", "key.pem"}}, signer.ErrEncryptedKey},
		{"Ed25519", [][]string{{"genpkey", "-algorithm", "ed25519", "-out", "key.pem"}}, signer.ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, args := range tt.cmds {
				cmd := exec.Command("openssl", args...)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
			data := must(os.ReadFile(filepath.Join(dir, "key.pem")))
			_, err := signer.LoadPrivateKey(data)
			checkErr(t, err, tt.wantErr, "")
		})
	}
}

func TestLoadCertificates(t *testing.T) {
	p := testpki.New()
	tests := []struct {
		name    string
		pem     []byte
		want    []*x509.Certificate
		wantErr error
	}{
		{"one", testpki.CertsPEM(p.RSA.Cert), []*x509.Certificate{p.RSA.Cert}, nil},
		{"chain in order", testpki.CertsPEM(p.EC256.Cert, p.Intermediate, p.Root), []*x509.Certificate{p.EC256.Cert, p.Intermediate, p.Root}, nil},
		{"text between blocks", []byte("subject=...\n" + string(testpki.CertsPEM(p.RSA.Cert)) + "issuer=...\n" + string(testpki.CertsPEM(p.Intermediate))), []*x509.Certificate{p.RSA.Cert, p.Intermediate}, nil},
		{"empty", nil, nil, signer.ErrNoPEM},
		{"DER, not PEM", p.RSA.Cert.Raw, nil, signer.ErrNoPEM},
		{"key block", pemBlock("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(p.EC256.Key))), nil, signer.ErrInvalidCertificate},
		{"corrupt certificate", pemBlock("CERTIFICATE", []byte{0x30, 0x00}), nil, signer.ErrInvalidCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := signer.LoadCertificates(tt.pem)
			checkErr(t, err, tt.wantErr, "")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d certificates, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !got[i].Equal(tt.want[i]) {
					t.Errorf("certificate %d differs", i)
				}
			}
		})
	}
}

func TestNewSeal(t *testing.T) {
	p := testpki.New()
	p521 := must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader))
	p521Cert := must(p.Issue(testpki.LeafTemplate(testpki.Subject), p521))
	p224 := must(ecdsa.GenerateKey(elliptic.P224(), rand.Reader))
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edCert := must(p.Issue(testpki.LeafTemplate(testpki.Subject), edKey))
	encOnly := testpki.LeafTemplate(testpki.Subject)
	encOnly.KeyUsage = x509.KeyUsageKeyEncipherment
	encCert := must(p.Issue(encOnly, p.RSA.Key))
	tlsOnly := testpki.LeafTemplate(testpki.Subject)
	tlsOnly.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	tlsCert := must(p.Issue(tlsOnly, p.RSA.Key))

	tests := []struct {
		name    string
		key     crypto.Signer
		certs   []*x509.Certificate
		wantErr error
		errText string
	}{
		{name: "RSA-3072 with chain", key: p.RSA.Key, certs: p.RSA.Chain},
		{name: "RSA-3072 leaf only", key: p.RSA.Key, certs: []*x509.Certificate{p.RSA.Cert}},
		{name: "RSA chain with root", key: p.RSA.Key, certs: []*x509.Certificate{p.RSA.Cert, p.Intermediate, p.Root}},
		{name: "ECDSA P-256", key: p.EC256.Key, certs: p.EC256.Chain},
		{name: "ECDSA P-384", key: p.EC384.Key, certs: p.EC384.Chain},
		{name: "ECDSA P-521", key: p521, certs: []*x509.Certificate{p521Cert, p.Intermediate}},
		{name: "self-signed", key: p.Attacker.Key, certs: p.Attacker.Chain},

		{name: "RSA-1024", key: p.WeakRSA.Key, certs: p.WeakRSA.Chain, wantErr: signer.ErrUnsupportedKey, errText: "RSA-1024 is too weak"},
		{name: "ECDSA P-224", key: p224, certs: p.EC256.Chain, wantErr: signer.ErrUnsupportedKey, errText: "P-224"},
		{name: "Ed25519", key: edKey, certs: []*x509.Certificate{edCert}, wantErr: signer.ErrUnsupportedKey, errText: "Ed25519"},
		{name: "nil key", key: nil, certs: p.RSA.Chain, wantErr: signer.ErrUnsupportedKey},
		{name: "no certificates", key: p.RSA.Key, certs: nil, wantErr: signer.ErrInvalidCertificate},
		{name: "same subject, other key", key: p.RSA.Key, certs: p.RSASameSubject.Chain, wantErr: signer.ErrKeyMismatch},
		{name: "RSA key, EC certificate", key: p.RSA.Key, certs: p.EC256.Chain, wantErr: signer.ErrKeyMismatch, errText: "ECDSA P-256"},
		{name: "intermediate first", key: p.RSA.Key, certs: []*x509.Certificate{p.Intermediate, p.RSA.Cert}, wantErr: signer.ErrKeyMismatch},
		{name: "root before intermediate", key: p.RSA.Key, certs: []*x509.Certificate{p.RSA.Cert, p.Root, p.Intermediate}, wantErr: signer.ErrChainOrder},
		{name: "unrelated issuer", key: p.RSA.Key, certs: []*x509.Certificate{p.RSA.Cert, p.Attacker.Cert}, wantErr: signer.ErrChainOrder},
		{name: "key usage: keyEncipherment only", key: p.RSA.Key, certs: []*x509.Certificate{encCert, p.Intermediate}, wantErr: signer.ErrKeyUsage, errText: "keyEncipherment"},
		{name: "extended key usage: TLS server only", key: p.RSA.Key, certs: []*x509.Certificate{tlsCert, p.Intermediate}, wantErr: signer.ErrKeyUsage, errText: "serverAuth"},
		{name: "nil in chain", key: p.RSA.Key, certs: []*x509.Certificate{p.RSA.Cert, nil}, wantErr: signer.ErrInvalidCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certs := slices.Clone(tt.certs) // the shared test PKI must not be modified
			seal, err := signer.NewSeal(tt.key, certs)
			checkErr(t, err, tt.wantErr, tt.errText)
			if err != nil {
				return
			}
			if seal.Key != tt.key || seal.Certificate != tt.certs[0] || !slices.Equal(seal.Chain, tt.certs) {
				t.Error("seal does not hold the key and certificates given")
			}
			certs[0] = nil
			if seal.Chain[0] == nil {
				t.Error("seal shares the caller's slice")
			}
		})
	}
}

func TestLoadSealFiles(t *testing.T) {
	p := testpki.New()
	dir := t.TempDir()
	if err := p.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(path("ec-sec1.key"), pemBlock("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(p.EC256.Key.(*ecdsa.PrivateKey)))), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		key, cert string
		chain     []string
		wantChain int
		wantErr   error
	}{
		{"chain in cert file", "rsa.key", "rsa-chain.pem", nil, 2, nil},
		{"chain in separate files", "rsa.key", "rsa.pem", []string{"inter.pem", "root.pem"}, 3, nil},
		{"SEC1 key", "ec-sec1.key", "ec.pem", []string{"inter.pem"}, 2, nil},
		{"swapped certificate", "rsa.key", "rsa-same-subject.pem", nil, 0, signer.ErrKeyMismatch},
		{"weak key", "weak.key", "weak-chain.pem", nil, 0, signer.ErrUnsupportedKey},
		{"key as certificate", "rsa.key", "rsa.key", nil, 0, signer.ErrInvalidCertificate},
		{"missing key file", "nope.key", "rsa.pem", nil, 0, os.ErrNotExist},
		{"missing chain file", "rsa.key", "rsa.pem", []string{"nope.pem"}, 0, os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var chain []string
			for _, c := range tt.chain {
				chain = append(chain, path(c))
			}
			seal, err := signer.LoadSealFiles(path(tt.key), path(tt.cert), chain...)
			checkErr(t, err, tt.wantErr, "")
			if err == nil && len(seal.Chain) != tt.wantChain {
				t.Errorf("chain has %d certificates, want %d", len(seal.Chain), tt.wantChain)
			}
		})
	}
}

func checkErr(t *testing.T, err, want error, text string) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error = %v, want %v", err, want)
	case text != "" && !strings.Contains(err.Error(), text):
		t.Fatalf("error %q does not mention %q", err, text)
	}
	if err != nil {
		t.Logf("error: %v", err)
	}
}
