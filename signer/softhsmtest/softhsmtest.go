// Package softhsmtest gives a test its own SoftHSM2 token: a token directory in t.TempDir() named by a
// SOFTHSM2_CONF of its own, initialised with softhsm2-util, and keys imported with pkcs11-tool (OpenSC) the way an
// operator moves a key into a token. Tests skip, saying what is missing, when SoftHSM2 or OpenSC is not
// installed (CI installs both).
//
// It is for tests only: the PINs are fixed and the token directory is thrown away with the test.
package softhsmtest

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
)

// Label, PIN and SOPIN are the token's label and PINs.
const (
	Label = "trustsign"
	PIN   = "1234"
	SOPIN = "5678"
)

// Token is a SoftHSM2 token made for one test.
type Token struct {
	// Module is the path of libsofthsm2.so.
	Module string
	// Dir is the token directory (moving it away makes the token unreachable).
	Dir string
	// PINFile holds PIN, mode 0600.
	PINFile string
	// Conf is the SOFTHSM2_CONF file.
	Conf string
}

// ModulePath finds libsofthsm2.so, or returns "".
func ModulePath() string {
	for _, p := range []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Missing says what of SoftHSM2 and OpenSC is not installed ("" when all is).
func Missing() string {
	for _, tool := range []string{"softhsm2-util", "pkcs11-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed (apt-get install softhsm2 opensc)"
		}
	}
	if ModulePath() == "" {
		return "libsofthsm2.so is not installed (apt-get install softhsm2)"
	}
	return ""
}

// New makes an initialised token labelled Label in a directory of the test's own, and points SOFTHSM2_CONF at
// it for the rest of the test (so the test cannot run in parallel). It skips the test when SoftHSM2 or OpenSC is
// missing.
func New(t testing.TB) *Token {
	t.Helper()
	if m := Missing(); m != "" {
		if os.Getenv(interoptest.RequireEnv) == "1" {
			// CI installs them (.ci/run): a missing tool there is a broken set-up, not a reason to skip
			t.Fatalf("SoftHSM2 test: %s (and %s=1)", m, interoptest.RequireEnv)
		}
		t.Skip("SoftHSM2 test skipped: " + m)
	}
	dir := t.TempDir()
	tok := &Token{Module: ModulePath(), Dir: filepath.Join(dir, "tokens"), PINFile: filepath.Join(dir, "pin"),
		Conf: filepath.Join(dir, "softhsm2.conf")}
	if err := os.Mkdir(tok.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tok.Dir)
	if err := os.WriteFile(tok.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tok.PINFile, []byte(PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", tok.Conf)
	tok.run(t, "softhsm2-util", "--init-token", "--free", "--label", Label, "--so-pin", SOPIN, "--pin", PIN)
	return tok
}

func (tok *Token) run(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+tok.Conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// Import writes key's private half into the token with pkcs11-tool, labelled label with CKA_ID id (a hex
// string, e.g. "01"), the way docs/operations.md moves a seal key into a token: only the private key goes in.
func (tok *Token) Import(t testing.TB, label, id string, key crypto.Signer) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(filepath.Dir(tok.Dir), "key-"+label+".der")
	if err := os.WriteFile(f, der, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f)
	tok.run(t, "pkcs11-tool", "--module", tok.Module, "--token-label", Label, "--login", "--pin", PIN,
		"--write-object", f, "--type", "privkey", "--id", id, "--label", label)
}

// URI is the RFC 7512 URI of the key labelled object, with the PIN from PINFile.
func (tok *Token) URI(object string) string {
	return "pkcs11:token=" + Label + ";object=" + object + "?module-path=" + tok.Module + "&pin-source=file:" + tok.PINFile
}

// Remove moves the token directory away (the token becomes unreachable); Restore puts it back.
func (tok *Token) Remove(t testing.TB) {
	t.Helper()
	if err := os.Rename(tok.Dir, tok.Dir+".away"); err != nil {
		t.Fatal(err)
	}
}

// Restore puts back a token directory that Remove moved away.
func (tok *Token) Restore(t testing.TB) {
	t.Helper()
	if err := os.Rename(tok.Dir+".away", tok.Dir); err != nil {
		t.Fatal(err)
	}
}
