//go:build !cgo

package main

import (
	"strings"
	"testing"
)

// TestPKCS11WithoutCgo: a build without cgo refuses a pkcs11: key in one line, in sign, serve and admin seal.
func TestPKCS11WithoutCgo(t *testing.T) {
	f := newFixture(t)
	uri := "pkcs11:token=trustsign;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so"
	for name, args := range map[string][]string{
		"sign":  {"sign", "--key", uri, "--cert", f.path("ec.pem"), f.path("doc.xml"), "-o", f.path("out.xml")},
		"serve": {"serve", "--data", t.TempDir(), "--seal-key", uri, "--seal-cert", f.path("ec.pem")},
		"admin": {"admin", "seal", "keygen", "--key", uri},
	} {
		code, _, stderr := ts(t, args...)
		last := strings.TrimSpace(stderr)
		if i := strings.LastIndex(last, "\n"); i >= 0 {
			last = last[i+1:]
		}
		if code != exitFailed || last != "trustsign: signer: PKCS#11 needs a build with cgo" {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
	}
}
