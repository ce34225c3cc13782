package cms

import (
	"bytes"
	"crypto"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
)

// openssl returns the openssl binary, skipping the test when it is not installed (failing instead when
// TRUSTSIGN_REQUIRE_INTEROP=1, as in CI).
func openssl(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv(interoptest.RequireEnv) == "1" {
			t.Fatalf("openssl not found on PATH (%s=1)", interoptest.RequireEnv)
		}
		t.Skip("openssl not found on PATH: install it (Debian package openssl) to run the CMS interop test")
	}
	return path
}

// TestOpenSSLInterop checks that OpenSSL verifies our signatures, including the chain to the root, decodes them
// with -cmsout -print, and rejects them when the content changes. (OpenSSL's cms -verify does not check the
// signingCertificateV2 attribute; TestOpenSSLSignaturesVerify compares our encoding of it with OpenSSL's.)
func TestOpenSSLInterop(t *testing.T) {
	bin := openssl(t)
	p := testpki.New()
	dir := t.TempDir()
	root := interoptest.WritePEM(t, dir, "root.pem", p.Root)
	contentFile := filepath.Join(dir, "content.bin")
	otherFile := filepath.Join(dir, "other.bin")
	if err := os.WriteFile(contentFile, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherFile, append([]byte("changed "), content...), 0o644); err != nil {
		t.Fatal(err)
	}
	when := time.Now()
	tests := []struct {
		name string
		id   testpki.Identity
		hash crypto.Hash
		time *time.Time
	}{
		{"RSA-SHA256-PAdES", p.RSA, crypto.SHA256, nil},
		{"RSA-SHA512-CAdES", p.RSA, crypto.SHA512, &when},
		{"ECDSA-P256-SHA256", p.EC256, crypto.SHA256, nil},
		{"ECDSA-P384-SHA384-CAdES", p.EC384, crypto.SHA384, &when},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			der, err := SignDetached(digest(tc.hash, content), SignOptions{Hash: tc.hash, Signer: tc.id.Key,
				Certificate: tc.id.Cert, Chain: tc.id.Chain, SigningTime: tc.time, PAdES: tc.time == nil})
			if err != nil {
				t.Fatal(err)
			}
			sig := filepath.Join(dir, tc.name+".p7s")
			if err := os.WriteFile(sig, der, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
				"-content", contentFile, "-CAfile", root, "-out", os.DevNull).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Verification successful") {
				t.Fatalf("openssl cms -verify: %v\n%s", err, out)
			}
			out, err = exec.Command(bin, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
				"-content", otherFile, "-CAfile", root, "-out", os.DevNull).CombinedOutput()
			if err == nil {
				t.Fatalf("openssl verified the signature over changed content:\n%s", out)
			}
			out, err = exec.Command(bin, "cms", "-cmsout", "-print", "-inform", "DER", "-in", sig).CombinedOutput()
			if err != nil {
				t.Fatalf("openssl cms -cmsout -print: %v\n%s", err, out)
			}
			for _, want := range []string{"contentType", "messageDigest", "id-smime-aa-signingCertificateV2",
				"eContent: <ABSENT>", "d.issuerAndSerialNumber"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("-cmsout -print lacks %q", want)
				}
			}
			if hasTime := strings.Contains(string(out), "signingTime"); hasTime != (tc.time != nil) {
				t.Errorf("signingTime printed: %v, want %v", hasTime, tc.time != nil)
			}
		})
	}
}

// TestOpenSSLSignaturesVerify checks the other direction: signatures made by OpenSSL (with signing-time, SMIME
// capabilities and, with -cades, an ESS signingCertificateV2) parse and verify here, and OpenSSL's
// signingCertificateV2 is byte for byte the one SignDetached writes.
func TestOpenSSLSignaturesVerify(t *testing.T) {
	bin := openssl(t)
	p := testpki.New()
	dir := t.TempDir()
	contentFile := filepath.Join(dir, "content.bin")
	if err := os.WriteFile(contentFile, content, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rsa", "ec"} {
		for _, cades := range []bool{false, true} {
			id := p.Identities()[name]
			t.Run(name+map[bool]string{false: "", true: "-cades"}[cades], func(t *testing.T) {
				cert := interoptest.WritePEM(t, dir, name+".pem", id.Cert)
				key := interoptest.WriteKey(t, dir, name+".key", id.Key)
				chain := interoptest.WritePEM(t, dir, "inter.pem", p.Intermediate)
				sig := filepath.Join(dir, name+".p7s")
				args := []string{"cms", "-sign", "-binary", "-outform", "DER", "-in", contentFile, "-signer", cert,
					"-inkey", key, "-certfile", chain, "-md", "sha256", "-out", sig}
				if cades {
					args = append(args, "-cades")
				}
				if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
					t.Fatalf("openssl cms -sign: %v\n%s", err, out)
				}
				der, err := os.ReadFile(sig)
				if err != nil {
					t.Fatal(err)
				}
				res := mustVerify(t, mustParse(t, der), content)
				if pr := res.Problems(); pr != nil {
					t.Fatalf("problems %v (%v)", pr, res.SignatureErr)
				}
				if cades && (res.SigningCertificateRef != CertRefV2 || res.Level != LevelCAdESBaseline) {
					t.Errorf("-cades: ref %v level %v", res.SigningCertificateRef, res.Level)
				}
				if cades {
					v, err := singleValue(mustParse(t, der).SignerInfo.SignedAttributes, oidAttrSigningCertificateV2, "")
					if err != nil || !bytes.Equal(v, derSigningCertificateV2(id.Cert, crypto.SHA256)) {
						t.Errorf("OpenSSL's signingCertificateV2 differs from ours (%v):\n%x\n%x", err, v, derSigningCertificateV2(id.Cert, crypto.SHA256))
					}
				}
				if !cades && res.Level != LevelPKCS7 {
					t.Errorf("level %v, want %v", res.Level, LevelPKCS7)
				}
			})
		}
	}
}

// TestOpenSSLShapes verifies what OpenSSL makes beyond the PAdES baseline shape: RSASSA-PSS, several signers in one
// SignedData, SHA-1 without signed attributes, and encapsulated content (as in adbe.pkcs7.sha1).
func TestOpenSSLShapes(t *testing.T) {
	bin := openssl(t)
	p := testpki.New()
	dir := t.TempDir()
	contentFile := filepath.Join(dir, "content.bin")
	if err := os.WriteFile(contentFile, content, 0o644); err != nil {
		t.Fatal(err)
	}
	signer := func(name string, id testpki.Identity) []string {
		return []string{"-signer", interoptest.WritePEM(t, dir, name+".pem", id.Cert), "-inkey", interoptest.WriteKey(t, dir, name+".key", id.Key)}
	}
	chain := interoptest.WritePEM(t, dir, "inter.pem", p.Intermediate)
	tests := []struct {
		name string
		args []string
		algs []string // Result.Algorithm of each signer, sorted (DER sorts the SET OF SignerInfos)
	}{
		{"RSASSA-PSS", append(signer("rsa", p.RSA), "-md", "sha256", "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:32"), []string{"RSA-PSS-SHA256"}},
		{"RSASSA-PSS SHA-384, no signed attributes", append(signer("rsa", p.RSA), "-md", "sha384", "-noattr", "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:48"), []string{"RSA-PSS-SHA384"}},
		{"two signers", append(append(signer("rsa", p.RSA), signer("ec", p.EC384)...), "-md", "sha384"), []string{"ECDSA-SHA384", "RSA-SHA384"}},
		{"SHA-1, no signed attributes", append(signer("rsa", p.RSA), "-md", "sha1", "-noattr"), []string{"RSA-SHA1"}},
		{"encapsulated content", append(signer("ec", p.EC256), "-md", "sha256", "-nodetach"), []string{"ECDSA-SHA256"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := filepath.Join(dir, "out.p7s")
			args := append([]string{"cms", "-sign", "-binary", "-outform", "DER", "-in", contentFile, "-certfile", chain, "-out", sig}, tc.args...)
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			der, err := os.ReadFile(sig)
			if err != nil {
				t.Fatal(err)
			}
			sd := mustParse(t, der)
			var res []*Result
			if sd.EContent != nil {
				if !bytes.Equal(sd.EContent, content) {
					t.Fatalf("EContent %q", sd.EContent)
				}
				res, err = sd.VerifyEncapsulated()
			} else {
				res, err = sd.VerifyDetached(func(w io.Writer) error { _, err := w.Write(content); return err })
			}
			if err != nil {
				t.Fatal(err)
			}
			var algs []string
			for _, r := range res {
				if pr := r.Problems(); pr != nil || r.UnsupportedAlgorithm != "" {
					t.Errorf("signer %d: problems %v, unsupported %q (%v)", r.SignerIndex, pr, r.UnsupportedAlgorithm, r.SignatureErr)
				}
				algs = append(algs, r.Algorithm)
			}
			slices.Sort(algs)
			if strings.Join(algs, " ") != strings.Join(tc.algs, " ") {
				t.Errorf("algorithms %q, want %q", algs, tc.algs)
			}
			if sd.EContent == nil {
				other, _ := sd.VerifyDetached(func(w io.Writer) error { _, err := w.Write([]byte("other")); return err })
				for _, r := range other {
					if r.Problems() == nil {
						t.Errorf("signer %d accepted for other content", r.SignerIndex)
					}
				}
			}
		})
	}
}
