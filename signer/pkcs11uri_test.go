package signer_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/signer"
)

func TestParsePKCS11URI(t *testing.T) {
	u, err := signer.ParsePKCS11URI("pkcs11:token=trust%20sign;object=seal-ec;id=%01%02;slot-id=7;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:///etc/trustsign/pin")
	if err != nil {
		t.Fatal(err)
	}
	if u.Token != "trust sign" || u.Object != "seal-ec" || string(u.ID) != "\x01\x02" || u.SlotID == nil || *u.SlotID != 7 ||
		u.ModulePath != "/usr/lib/softhsm/libsofthsm2.so" || u.PINFile != "/etc/trustsign/pin" {
		t.Fatalf("%+v", u)
	}
	again, err := signer.ParsePKCS11URI(u.String())
	if err != nil || again.String() != u.String() {
		t.Fatalf("round trip: %q %v", u.String(), err)
	}
	for _, tc := range []struct{ name, uri, want string }{
		{"pin-value", "pkcs11:object=k?module-path=/m.so&pin-value=SECRET-1234", "pin-value is refused"},
		{"no module", "pkcs11:object=k?pin-source=file:/p", "no module-path"},
		{"no key", "pkcs11:token=t?module-path=/m.so", "names no key"},
		{"public key", "pkcs11:object=k;type=public?module-path=/m.so", "type=private"},
		{"unknown", "pkcs11:object=k;colour=red?module-path=/m.so", "unknown attribute colour"},
		{"twice", "pkcs11:object=k;object=j?module-path=/m.so", "given twice"},
		{"pin from a command", "pkcs11:object=k?module-path=/m.so&pin-source=|cat%20pin", "file: URI"},
		{"bad slot", "pkcs11:object=k;slot-id=x?module-path=/m.so", "slot-id"},
		{"bad escape", "pkcs11:object=%zz?module-path=/m.so", "percent-encoding"},
		{"not pkcs11", "/etc/seal.key", "does not begin"},
		// a library dlopen would look for on the library path, or relative to the service's working directory
		{"module by name", "pkcs11:object=k?module-path=libsofthsm2.so", "absolute path"},
		{"module relative", "pkcs11:object=k?module-path=./lib/m.so", "absolute path"},
		{"pin file relative", "pkcs11:object=k?module-path=/m.so&pin-source=file:pin", "absolute path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := signer.ParsePKCS11URI(tc.uri)
			if !errors.Is(err, signer.ErrPKCS11URI) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want ErrPKCS11URI saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("the error shows the PIN: %v", err)
			}
		})
	}
}

func TestReadPINFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if pin, err := signer.ReadPINFile(write("ok", "1234\n", 0o600)); err != nil || pin != "1234" {
		t.Fatalf("%q %v", pin, err)
	}
	if pin, err := signer.ReadPINFile(write("ro", "12 34", 0o400)); err != nil || pin != "12 34" {
		t.Fatalf("%q %v", pin, err)
	}
	bad := map[string]string{
		"group-readable": write("g", "1234", 0o640), "world-readable": write("w", "1234", 0o604),
		"empty": write("e", "\n", 0o600), "missing": filepath.Join(dir, "none"), "a directory": dir,
	}
	// a file of another account (docs/operations.md: "owned by that user"): that account can read or rewrite the
	// PIN whatever the mode; only a service running as root can make one to test
	if os.Geteuid() == 0 && runtime.GOOS != "windows" {
		p := write("other", "1234", 0o600)
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		bad["another user's"] = p
	}
	for name, p := range bad {
		if _, err := signer.ReadPINFile(p); !errors.Is(err, signer.ErrPINFile) {
			t.Errorf("%s: %v, want ErrPINFile", name, err)
		} else if strings.Contains(err.Error(), "1234") {
			t.Errorf("%s: the error shows the PIN: %v", name, err)
		}
	}
}

// FuzzParsePKCS11URI: no input panics; a URI that parses gives back a String that parses to the same; a refused
// pin-value never shows in the error.
func FuzzParsePKCS11URI(f *testing.F) {
	for _, s := range []string{
		"pkcs11:token=trustsign;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/pin",
		"pkcs11:serial=0123;slot-id=3;id=%01%ff?module-path=/m.so",
		"pkcs11:object=a%3Bb;type=private;x-vendor=1?module-path=/m%20x.so&pin-source=file:///etc/p%26in",
		"pkcs11:object=k?module-path=/m.so&pin-value=SECRET",
		"pkcs11:?", "pkcs11:;;?&&", "pkcs11:object=%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := signer.ParsePKCS11URI(s)
		if err != nil {
			if strings.Contains(s, "pin-value=SECRET") && strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("the error shows the PIN: %v", err)
			}
			return
		}
		again, err := signer.ParsePKCS11URI(u.String())
		if err != nil {
			t.Fatalf("%q gives %q, which does not parse: %v", s, u.String(), err)
		}
		if again.String() != u.String() {
			t.Fatalf("%q: %q then %q", s, u.String(), again.String())
		}
	})
}
