package testpki_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
)

func TestIdentities(t *testing.T) {
	p := testpki.New()
	tests := []struct {
		name      string
		id        testpki.Identity
		keyType   string // "rsa" or "ecdsa"
		bits      int    // RSA modulus size or curve size
		chains    bool   // chains to p.Root
		chainLen  int
		sameAsRSA bool // subject equal to the RSA signer's
	}{
		{"RSA", p.RSA, "rsa", 3072, true, 2, true},
		{"EC256", p.EC256, "ecdsa", 256, true, 2, false},
		{"EC384", p.EC384, "ecdsa", 384, true, 2, false},
		{"WeakRSA", p.WeakRSA, "rsa", 1024, true, 2, false},
		{"RSASameSubject", p.RSASameSubject, "rsa", 3072, true, 2, true},
		{"Attacker", p.Attacker, "rsa", 2048, false, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.id.Cert
			if !publicKeyEqual(c.PublicKey, tt.id.Key.Public()) {
				t.Fatal("certificate public key does not match Key")
			}
			switch k := tt.id.Key.Public().(type) {
			case *rsa.PublicKey:
				if tt.keyType != "rsa" || k.N.BitLen() != tt.bits {
					t.Errorf("key = RSA-%d, want %s-%d", k.N.BitLen(), tt.keyType, tt.bits)
				}
			case *ecdsa.PublicKey:
				if tt.keyType != "ecdsa" || k.Curve.Params().BitSize != tt.bits {
					t.Errorf("key = ECDSA-%d, want %s-%d", k.Curve.Params().BitSize, tt.keyType, tt.bits)
				}
			default:
				t.Errorf("unexpected key type %T", k)
			}
			if want := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment; c.KeyUsage != want {
				t.Errorf("KeyUsage = %v, want %v", c.KeyUsage, want)
			}
			if c.IsCA || !c.BasicConstraintsValid {
				t.Errorf("IsCA = %v, BasicConstraintsValid = %v; want a non-CA leaf", c.IsCA, c.BasicConstraintsValid)
			}
			if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 {
				t.Errorf("serial %v is not a positive 128-bit number", c.SerialNumber)
			}
			now := time.Now()
			if !c.NotBefore.Before(now) || c.NotAfter.Before(now.AddDate(1, 11, 0)) {
				t.Errorf("validity %v – %v does not cover now to ~2 years", c.NotBefore, c.NotAfter)
			}
			if len(tt.id.Chain) != tt.chainLen || tt.id.Chain[0] != c {
				t.Errorf("Chain has %d certificates (leaf first), want %d", len(tt.id.Chain), tt.chainLen)
			}
			if got := bytes.Equal(c.RawSubject, p.RSA.Cert.RawSubject); got != tt.sameAsRSA {
				t.Errorf("subject equal to RSA signer's = %v, want %v", got, tt.sameAsRSA)
			}
			_, err := c.Verify(verifyOptions(p))
			if chains := err == nil; chains != tt.chains {
				t.Errorf("chains to root = %v (%v), want %v", chains, err, tt.chains)
			}
		})
	}
}

func TestCAs(t *testing.T) {
	p := testpki.New()
	if !p.Root.IsCA || p.Root.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Error("root is not a CA with keyCertSign")
	}
	if err := p.Root.CheckSignatureFrom(p.Root); err != nil {
		t.Errorf("root is not self-signed: %v", err)
	}
	if !p.Intermediate.IsCA || p.Intermediate.MaxPathLen != 0 || !p.Intermediate.MaxPathLenZero {
		t.Error("intermediate is not a CA with pathlen 0")
	}
	if err := p.Intermediate.CheckSignatureFrom(p.Root); err != nil {
		t.Errorf("intermediate not issued by root: %v", err)
	}
	for name, pair := range map[string]struct {
		cert *x509.Certificate
		key  crypto.Signer
	}{"root": {p.Root, p.RootKey}, "intermediate": {p.Intermediate, p.IntermediateKey}} {
		if k := pair.key.Public().(*rsa.PublicKey); k.N.BitLen() != 3072 || !k.Equal(pair.cert.PublicKey) {
			t.Errorf("%s key is not the certificate's RSA-3072 key", name)
		}
	}
	if p.RSA.Cert.Subject.CommonName != "Pieczęć podpisu zaufanego (test)" {
		t.Errorf("RSA signer CN = %q", p.RSA.Cert.Subject.CommonName)
	}
	if p.RSA.Cert.SerialNumber.Cmp(p.RSASameSubject.Cert.SerialNumber) == 0 {
		t.Error("RSA and RSASameSubject share a serial number")
	}
	if p.RSA.Key.Public().(*rsa.PublicKey).Equal(p.RSASameSubject.Key.Public()) {
		t.Error("RSA and RSASameSubject share a key")
	}
	if testpki.New() != p {
		t.Error("New returned a different PKI on the second call")
	}
}

func TestIssue(t *testing.T) {
	p := testpki.New()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tests := []struct {
		name    string
		modify  func(*x509.Certificate)
		wantErr error // from x509 verification; nil means valid
	}{
		{"default", func(*x509.Certificate) {}, nil},
		{"expired", func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = now.AddDate(-2, 0, 0), now.AddDate(0, 0, -1)
		}, x509.CertificateInvalidError{Reason: x509.Expired}},
		{"not yet valid", func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = now.AddDate(0, 0, 1), now.AddDate(1, 0, 0)
		}, x509.CertificateInvalidError{Reason: x509.Expired}},
		{"zero validity filled in", func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = time.Time{}, time.Time{}
		}, nil},
		{"leaf claiming CA", func(c *x509.Certificate) {
			c.IsCA = true
			c.KeyUsage |= x509.KeyUsageCertSign
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := testpki.LeafTemplate(testpki.Subject)
			tt.modify(tmpl)
			id, err := p.IssueIdentity(tmpl, key)
			if err != nil {
				t.Fatal(err)
			}
			if tmpl.SerialNumber != nil {
				t.Error("Issue modified the template")
			}
			_, err = id.Cert.Verify(verifyOptions(p))
			var invalid x509.CertificateInvalidError
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("Verify: %v, want success", err)
			case tt.wantErr != nil && (!errors.As(err, &invalid) || invalid.Reason != tt.wantErr.(x509.CertificateInvalidError).Reason):
				t.Errorf("Verify: %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestWriteDir(t *testing.T) {
	p := testpki.New()
	dir := t.TempDir()
	if err := p.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	certs := map[string][]*x509.Certificate{
		"root.pem":      {p.Root},
		"inter.pem":     {p.Intermediate},
		"rsa.pem":       {p.RSA.Cert},
		"rsa-chain.pem": p.RSA.Chain,
		"ec.pem":        {p.EC256.Cert},
		"ec384.pem":     {p.EC384.Cert},
		"weak.pem":      {p.WeakRSA.Cert},
		"attacker.pem":  {p.Attacker.Cert},
	}
	for file, want := range certs {
		blocks := readPEM(t, filepath.Join(dir, file))
		if len(blocks) != len(want) {
			t.Errorf("%s: %d blocks, want %d", file, len(blocks), len(want))
			continue
		}
		for i, b := range blocks {
			if b.Type != "CERTIFICATE" || !bytes.Equal(b.Bytes, want[i].Raw) {
				t.Errorf("%s: block %d is not the expected certificate", file, i)
			}
		}
	}
	keys := map[string]crypto.Signer{
		"root.key": p.RootKey, "inter.key": p.IntermediateKey, "rsa.key": p.RSA.Key, "ec.key": p.EC256.Key,
		"ec384.key": p.EC384.Key, "weak.key": p.WeakRSA.Key, "attacker.key": p.Attacker.Key,
		"rsa-same-subject.key": p.RSASameSubject.Key,
	}
	for file, want := range keys {
		blocks := readPEM(t, filepath.Join(dir, file))
		if len(blocks) != 1 || blocks[0].Type != "PRIVATE KEY" {
			t.Errorf("%s: want one PRIVATE KEY block", file)
			continue
		}
		got, err := x509.ParsePKCS8PrivateKey(blocks[0].Bytes)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if !publicKeyEqual(got.(crypto.Signer).Public(), want.Public()) {
			t.Errorf("%s: wrong key", file)
		}
	}
}

func TestFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("key generation is slow")
	}
	p, err := testpki.Fresh()
	if err != nil {
		t.Fatal(err)
	}
	if p == testpki.New() || p.Root.Equal(testpki.New().Root) {
		t.Error("Fresh returned the shared PKI")
	}
}

func verifyOptions(p *testpki.PKI) x509.VerifyOptions {
	return x509.VerifyOptions{
		Roots:         p.Roots(),
		Intermediates: p.Intermediates(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
}

func readPEM(t *testing.T, path string) []*pem.Block {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []*pem.Block
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return blocks
		}
		blocks = append(blocks, b)
	}
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
