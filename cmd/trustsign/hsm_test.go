//go:build cgo

package main

import (
	"crypto"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signer/softhsmtest"
	"github.com/trustsign/trustsign/verify"
)

// hsmFixture is the test PKI with the signers' keys also in a SoftHSM2 token (only the private keys, imported
// with pkcs11-tool as docs/operations.md does), labelled by their file names.
func hsmFixture(t *testing.T) (*fixture, *softhsmtest.Token) {
	t.Helper()
	tok := softhsmtest.New(t)
	f := newFixture(t)
	for i, name := range []string{"ec", "ec384", "rsa"} {
		key, err := os.ReadFile(f.path(name + ".key"))
		if err != nil {
			t.Fatal(err)
		}
		tok.Import(t, name, "0"+string(rune('1'+i)), mustKey(t, key))
	}
	if err := os.WriteFile(f.path("in.pdf"), pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	return f, tok
}

// TestSignWithHSMKeys: sign makes XAdES and PAdES with ECDSA P-256 and P-384 and RSA (PKCS#1 v1.5 and PSS) keys
// in the token; our verifier and the peers (xmlsec1, pdfsig) accept them.
func TestSignWithHSMKeys(t *testing.T) {
	bin := builtBinary(t)
	f, tok := hsmFixture(t)
	for _, tc := range []struct {
		name, key, format, in string
		extra                 []string
	}{
		{"xades P-256", "ec", "xades", "doc.xml", nil},
		{"pades P-256", "ec", "pades", "in.pdf", nil},
		{"xades P-384", "ec384", "xades", "doc.xml", []string{"--hash", "sha384"}},
		{"pades P-384", "ec384", "pades", "in.pdf", []string{"--hash", "sha384"}},
		{"xades RSA PKCS#1 v1.5", "rsa", "xades", "doc.xml", nil},
		{"pades RSA PKCS#1 v1.5", "rsa", "pades", "in.pdf", nil},
		{"xades RSA-PSS", "rsa", "xades", "doc.xml", []string{"--rsa-pss"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := f.path(strings.NewReplacer(" ", "-", "#", "").Replace(tc.name) + "." + tc.format)
			args := append([]string{"sign", "--key", tok.URI(tc.key), "--cert", f.path(tc.key + ".pem"), "--chain", f.path("inter.pem"),
				"--format", tc.format}, tc.extra...)
			if code, _, stderr := tsBin(t, bin, "", append(args, f.path(tc.in), "-o", out)...); code != 0 {
				t.Fatalf("sign: exit %d: %s", code, stderr)
			}
			if code, reps := f.verifyJSON(t, out); code != 0 || reps[0].Indication != verify.TotalPassed {
				t.Fatalf("our verifier: exit %d %+v", code, reps)
			}
			peer := "xmlsec"
			switch {
			case tc.format == "pades":
				peer = "pdfsig"
			case slices.Contains(tc.extra, "--rsa-pss"):
				peer = "santuario" // xmlsec1 has RSASSA-PSS from 1.3 only (xades/pss_test.go)
			}
			ok, msg := interoptest.Verify(t, peer, out, f.path("root.pem"), f.path("inter.pem"))
			if !ok && peer == "santuario" && (strings.Contains(msg, "does not exist") || strings.Contains(msg, "not available")) {
				t.Logf("%s here cannot check RSASSA-PSS: %s", peer, strings.TrimSpace(msg))
			} else if !ok {
				t.Fatalf("%s: %s", peer, msg)
			}
		})
	}
}

// TestSignHSMRefusals: pin-value is refused without echoing the PIN; a key that is not the certificate's, and a
// PIN file open to others, are refused before anything is signed.
func TestSignHSMRefusals(t *testing.T) {
	bin := builtBinary(t)
	f, tok := hsmFixture(t)
	sign := func(key, cert string) (int, string) {
		code, _, stderr := tsBin(t, bin, "", "sign", "--key", key, "--cert", f.path(cert), "--chain", f.path("inter.pem"),
			f.path("doc.xml"), "-o", f.path("out.xml"))
		return code, stderr
	}
	withValue := strings.Replace(tok.URI("ec"), "pin-source=file:"+tok.PINFile, "pin-value="+softhsmtest.PIN+"9876", 1)
	if code, stderr := sign(withValue, "ec.pem"); code != exitUsage || !strings.Contains(stderr, "pin-value is refused") || strings.Contains(stderr, "9876") {
		t.Errorf("pin-value: exit %d %q", code, stderr)
	}
	if code, stderr := sign(tok.URI("ec"), "ec384.pem"); code == 0 || !strings.Contains(stderr, "does not match") {
		t.Errorf("another certificate: exit %d %q", code, stderr)
	}
	if err := os.Chmod(tok.PINFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stderr := sign(tok.URI("ec"), "ec.pem"); code == 0 || !strings.Contains(stderr, "open to other users") {
		t.Errorf("PIN file 0644: exit %d %q", code, stderr)
	}
	if _, err := os.Stat(f.path("out.xml")); err == nil {
		t.Error("an output was written")
	}
}

// TestServeHSMReadiness: serve seals with a key in the token; /readyz is 200, turns 503 once the token directory
// is moved away (a test signature every second here, every 10 s by default), and 200 again when it is back, with
// no restart.
func TestServeHSMReadiness(t *testing.T) {
	bin := builtBinary(t)
	f, tok := hsmFixture(t)
	s := startServer(t, bin, "--data", t.TempDir(), "--seal-key", tok.URI("ec"), "--seal-cert", f.path("ec.pem"),
		"--seal-chain", f.path("inter.pem"), "--seal-check-interval", "1s")
	ready := func() int {
		res, err := http.Get(s.base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	waitFor := func(want int, what string) {
		t.Helper()
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
			if ready() == want {
				return
			}
		}
		t.Fatalf("%s: /readyz never answered %d; logs:\n%s", what, want, s.logs.String())
	}
	waitFor(200, "started")
	tok.Remove(t)
	waitFor(503, "token away")
	tok.Restore(t)
	waitFor(200, "token back")
	if logs := s.logs.String(); strings.Contains(logs, softhsmtest.PIN) {
		t.Errorf("the PIN is in the log:\n%s", logs)
	}
	s.stop(t)
}

// TestServeSealConfigReload: --seal-config names the current seal; SIGHUP after the file changed switches to the
// new current seal, and a broken file on SIGHUP keeps the seal in use.
func TestServeSealConfigReload(t *testing.T) {
	bin := builtBinary(t)
	f, tok := hsmFixture(t)
	conf := f.path("seals.json")
	writeConf := func(current string) {
		write(t, conf, `{"current": "`+current+`", "seals": [
  {"id": "2026", "key": "`+f.path("ec.key")+`", "cert": "`+f.path("ec.pem")+`", "chain": ["`+f.path("inter.pem")+`"]},
  {"id": "2027", "key": "`+tok.URI("rsa")+`", "cert": "`+f.path("rsa.pem")+`", "chain": ["`+f.path("inter.pem")+`"]}]}`)
	}
	writeConf("2026")
	s := startServer(t, bin, "--data", t.TempDir(), "--seal-config", conf)
	if !strings.Contains(s.logs.String(), `"seal":"2026"`) {
		t.Fatalf("started with: %s", s.logs.String())
	}
	waitLog := func(want string) {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if strings.Contains(s.logs.String(), want) {
				return
			}
		}
		t.Fatalf("no %q in the log:\n%s", want, s.logs.String())
	}
	writeConf("2027")
	s.cmd.Process.Signal(syscall.SIGHUP) //nolint:errcheck
	waitLog(`"msg":"seal reloaded","previous":"2026","seal":"2027"`)
	write(t, conf, `{"current": "2028", "seals": []}`)
	s.cmd.Process.Signal(syscall.SIGHUP) //nolint:errcheck
	waitLog(`"msg":"seal reload failed: still sealing with the previous seal","seal":"2027"`)
	s.stop(t)
}

func mustKey(t *testing.T, pemBytes []byte) crypto.Signer {
	t.Helper()
	k, err := signer.LoadPrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
