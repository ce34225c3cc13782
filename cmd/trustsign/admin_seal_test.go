//go:build cgo

package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/signer/softhsmtest"
	"github.com/trustsign/trustsign/verify"
)

// publicOnly lets testpki issue a certificate for a public key from a request.
type publicOnly struct{ pub crypto.PublicKey }

func (p publicOnly) Public() crypto.PublicKey { return p.pub }
func (publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	panic("not a key")
}

// TestAdminSealKeygenCSRInstall: a key made in the token, its request, the CA's certificate installed (checked
// against the key: another certificate is refused), and the seal signs documents that verify.
func TestAdminSealKeygenCSRInstall(t *testing.T) {
	bin := builtBinary(t)
	tok := softhsmtest.New(t)
	f := newFixture(t)
	pki := testpki.New()
	for _, tc := range []struct{ name, object, alg string }{
		{"EC P-256 default", "seal-2027", "ECDSA P-256"},
		{"RSA 2048", "seal-rsa", "RSA-2048"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := tok.URI(tc.object)
			args := []string{"admin", "seal", "keygen", "--key", uri}
			if strings.HasPrefix(tc.alg, "RSA") {
				args = append(args, "--rsa", "2048")
			}
			code, stdout, stderr := tsBin(t, bin, "", args...)
			if code != 0 || !strings.Contains(stdout, tc.alg) {
				t.Fatalf("keygen: exit %d %s %s", code, stdout, stderr)
			}
			if code, _, stderr := tsBin(t, bin, "", args...); code != exitCantCreate || !strings.Contains(stderr, "never replaces") {
				t.Fatalf("keygen again: exit %d %s", code, stderr)
			}
			csrPath := f.path(tc.object + ".csr")
			if code, _, stderr := tsBin(t, bin, "", "admin", "seal", "csr", "--key", uri, "--cn", "Pieczęć "+tc.object, "--o", "Urząd Testowy",
				"--c", "PL", "--org-id", "VATPL-1234563218", "-o", csrPath); code != 0 {
				t.Fatalf("csr: exit %d %s", code, stderr)
			}
			raw, _ := os.ReadFile(csrPath)
			block, _ := pem.Decode(raw)
			if block == nil {
				t.Fatalf("no PEM request: %q", raw)
			}
			csr, err := x509.ParseCertificateRequest(block.Bytes)
			if err != nil || csr.CheckSignature() != nil || csr.Subject.CommonName != "Pieczęć "+tc.object {
				t.Fatalf("request: %v %+v", err, csr)
			}
			issued, err := pki.Issue(testpki.LeafTemplate(csr.Subject), publicOnly{csr.PublicKey})
			if err != nil {
				t.Fatal(err)
			}
			certPath := f.path(tc.object + ".pem")
			write(t, certPath, string(testpki.CertsPEM(issued)))
			chainPath := f.path(tc.object + "-chain.pem")
			// a certificate for another key is refused, and nothing is written
			if code, _, stderr := tsBin(t, bin, "", "admin", "seal", "install", "--key", uri, "--cert", f.path("ec.pem"),
				"--chain", f.path("inter.pem"), "-o", chainPath); code != exitDataErr || !strings.Contains(stderr, "does not match") {
				t.Fatalf("install another certificate: exit %d %s", code, stderr)
			}
			if _, err := os.Stat(chainPath); err == nil {
				t.Fatal("the refused certificate was written")
			}
			if code, _, stderr := tsBin(t, bin, "", "admin", "seal", "install", "--key", uri, "--cert", certPath,
				"--chain", f.path("inter.pem"), "-o", chainPath, "--to-token"); code != 0 {
				t.Fatalf("install: exit %d %s", code, stderr)
			}
			out := f.path(tc.object + "-signed.xml")
			if code, _, stderr := tsBin(t, bin, "", "sign", "--key", uri, "--cert", chainPath, f.path("doc.xml"), "-o", out); code != 0 {
				t.Fatalf("sign with the new seal: exit %d %s", code, stderr)
			}
			if code, reps := f.verifyJSON(t, out); code != 0 || reps[0].Indication != verify.TotalPassed {
				t.Fatalf("verify: exit %d %+v", code, reps)
			}
		})
	}
}
