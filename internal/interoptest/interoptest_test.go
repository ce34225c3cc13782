package interoptest_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
)

// TestDoctor checks that the interop toolkit is installed and complete.
func TestDoctor(t *testing.T) {
	ok, out := interoptest.Run(t, "doctor")
	if !ok {
		if os.Getenv(interoptest.RequireEnv) == "1" {
			t.Fatalf("interop doctor: some tools are missing:\n%s", out)
		}
		t.Skipf("interop doctor: some tools are missing (run ../shared/interop/setup):\n%s", out)
	}
	if !strings.Contains(out, "all tools present") {
		t.Errorf("unexpected doctor output:\n%s", out)
	}
}

// pkiDir writes the shared test PKI into a temporary directory.
func pkiDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := testpki.New().WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestVerifyXML signs with xmlsec1 using the test PKI and checks the result with every XML verifier.
func TestVerifyXML(t *testing.T) {
	pki := pkiDir(t)
	at := func(name string) string { return filepath.Join(pki, name) }
	dir := t.TempDir()
	// Without the XML declaration, xmlsec-sign rewrites non-ASCII text as character references.
	in := filepath.Join(dir, "in.xml")
	if err := os.WriteFile(in, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<dokument Id="d"><tresc>Zażółć gęślą jaźń</tresc></dokument>`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(dir, "signed.xml")
	if ok, out := interoptest.Run(t, "xmlsec-sign", in, signed, "--key", at("rsa.key"), "--cert", at("rsa.pem"), "--xades"); !ok {
		t.Fatalf("xmlsec-sign failed:\n%s", out)
	}
	data, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(dir, "tampered.xml")
	if err := os.WriteFile(tampered, bytes.Replace(data, []byte("jaźń"), []byte("jazn"), 1), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name             string
		file             string
		trust, untrusted string
		want             bool
	}{
		{"trusted", signed, at("root.pem"), at("inter.pem"), true},
		{"crypto only", signed, "", "", true},
		{"missing intermediate", signed, at("root.pem"), "", false},
		{"other trust root", signed, at("attacker.pem"), at("inter.pem"), false},
		{"tampered", tampered, at("root.pem"), at("inter.pem"), false},
	}
	for _, tool := range []string{"xmlsec", "xadesjs", "santuario"} {
		for _, tt := range tests {
			t.Run(tool+"/"+tt.name, func(t *testing.T) {
				ok, out := interoptest.Verify(t, tool, tt.file, tt.trust, tt.untrusted)
				if ok != tt.want {
					t.Errorf("ok = %v, want %v:\n%s", ok, tt.want, out)
				}
			})
		}
	}
}

// TestVerifyPDF signs a PDF with PDFBox using the test PKI and checks it with the PDF verifiers.
func TestVerifyPDF(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed; CI installs it (.ci/run)")
	}
	pki := pkiDir(t)
	at := func(name string) string { return filepath.Join(pki, name) }
	dir := t.TempDir()
	p12 := filepath.Join(dir, "signer.p12")
	if out, err := exec.Command("openssl", "pkcs12", "-export", "-inkey", at("ec.key"), "-in", at("ec-chain.pem"),
		"-passout", "pass:test", "-out", p12).CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12: %v\n%s", err, out)
	}
	unsigned, signed := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "signed.pdf")
	if ok, out := interoptest.Run(t, "pdfbox-mkpdf", unsigned, "Pieczec testowa"); !ok {
		t.Fatalf("pdfbox-mkpdf failed:\n%s", out)
	}
	if ok, out := interoptest.Run(t, "pdfbox-sign", unsigned, signed, "--key", p12, "--pass", "test"); !ok {
		t.Fatalf("pdfbox-sign failed:\n%s", out)
	}
	tests := []struct {
		tool, file, trust string
		want              bool
	}{
		{"pdfsig", signed, at("root.pem"), true},
		{"pdfbox", signed, at("root.pem"), true},
		{"pdfbox", signed, at("attacker.pem"), false},
		{"pdfsig", unsigned, at("root.pem"), false},
		{"qpdf", signed, "", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tt.tool, filepath.Base(tt.file), filepath.Base(tt.trust)), func(t *testing.T) {
			ok, out := interoptest.Verify(t, tt.tool, tt.file, tt.trust, "")
			if ok != tt.want {
				t.Errorf("ok = %v, want %v:\n%s", ok, tt.want, out)
			}
		})
	}
}

// recorder is a testing.TB that records Fatalf and Skipf instead of stopping the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }
func (r *recorder) Skipf(format string, args ...any)  { r.skip = fmt.Sprintf(format, args...) }

// TestRunExitCodes checks how Run treats each exit status, with a fake interop tool.
func TestRunExitCodes(t *testing.T) {
	shared := t.TempDir()
	if err := os.Mkdir(filepath.Join(shared, "interop"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The fake prints its first argument and exits with the second.
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\"\nexit \"$2\"\n"
	if err := os.WriteFile(filepath.Join(shared, "interop", "interop"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(interoptest.SharedEnv, shared)

	tests := []struct {
		name      string
		line      string
		code      string
		require   bool
		wantOK    bool
		wantFatal bool
		wantSkip  bool
	}{
		{"valid", "VALID xmlsec1", "0", false, true, false, false},
		{"invalid", "INVALID xmlsec1: digest mismatch", "1", false, false, false, false},
		{"usage error", "INVALID interop: usage: cannot read file: x.xml", "2", false, false, true, false},
		{"tool error", "INVALID pdfsig: error: certutil could not import a.pem", "2", false, false, true, false},
		{"tool missing", "INVALID xmlsec1: error: xmlsec1 not installed (run setup)", "2", false, false, false, true},
		{"tool missing, required", "INVALID xmlsec1: error: xmlsec1 not installed (run setup)", "2", true, false, true, false},
		{"killed", "", "137", false, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.require {
				t.Setenv(interoptest.RequireEnv, "1")
			} else {
				t.Setenv(interoptest.RequireEnv, "")
			}
			r := &recorder{TB: t}
			ok, out := interoptest.Run(r, tt.line, tt.code)
			if ok != tt.wantOK || (r.fatal != "") != tt.wantFatal || (r.skip != "") != tt.wantSkip {
				t.Errorf("ok=%v fatal=%q skip=%q, want ok=%v fatal=%v skip=%v", ok, r.fatal, r.skip, tt.wantOK, tt.wantFatal, tt.wantSkip)
			}
			if strings.TrimSpace(out) != tt.line {
				t.Errorf("output = %q, want %q", out, tt.line)
			}
		})
	}
}

func TestToolMissing(t *testing.T) {
	tests := []struct {
		name     string
		shared   string // "" = a directory without the tool
		require  bool
		wantSkip bool
	}{
		{"no shared folder", "/nonexistent/shared", false, true},
		{"no tool", "", false, true},
		{"no tool, required", "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shared := tt.shared
			if shared == "" {
				shared = t.TempDir()
			}
			t.Setenv(interoptest.SharedEnv, shared)
			req := ""
			if tt.require {
				req = "1"
			}
			t.Setenv(interoptest.RequireEnv, req)
			r := &recorder{TB: t}
			if got := interoptest.Tool(r); got != "" {
				t.Errorf("Tool = %q, want empty", got)
			}
			if (r.skip != "") != tt.wantSkip || (r.fatal != "") == tt.wantSkip {
				t.Errorf("skip=%q fatal=%q, want skip=%v", r.skip, r.fatal, tt.wantSkip)
			}
		})
	}
}

func TestDefaultLocation(t *testing.T) {
	t.Setenv(interoptest.SharedEnv, "")
	r := &recorder{TB: t}
	dir := interoptest.SharedDir(r)
	if r.skip != "" {
		t.Skip(r.skip)
	}
	wd, _ := os.Getwd()
	if want, _ := filepath.Abs(filepath.Join(wd, "..", "..", "..", "shared")); dir != want {
		t.Errorf("SharedDir = %q, want %q", dir, want)
	}
	if corpus := interoptest.CorpusDir(t); filepath.Dir(corpus) != dir {
		t.Errorf("CorpusDir = %q, want it inside %q", corpus, dir)
	}
}

func TestWritePEMAndKey(t *testing.T) {
	p := testpki.New()
	certPath := interoptest.WritePEM(t, "", "chain.pem", p.RSA.Chain...)
	keyPath := interoptest.WriteKey(t, filepath.Dir(certPath), "rsa.key", p.RSA.Key)
	if filepath.Dir(keyPath) != filepath.Dir(certPath) {
		t.Errorf("key written to %s, want %s", keyPath, filepath.Dir(certPath))
	}
	data, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range p.RSA.Chain {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil || !bytes.Equal(b.Bytes, want.Raw) {
			t.Fatalf("certificate %d missing or different", i)
		}
	}
	data, err = os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil || b.Type != "PRIVATE KEY" {
		t.Fatalf("key file: type %q, %v", b.Type, err)
	}
	if !p.RSA.Cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.(crypto.Signer).Public()) {
		t.Error("wrong key written")
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, %v; want 0600", fi.Mode(), err)
	}
}
