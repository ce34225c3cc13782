//go:build !cgo

package signer_test

import (
	"errors"
	"testing"

	"github.com/trustsign/trustsign/signer"
)

// TestPKCS11WithoutCgo: a build without cgo refuses a pkcs11: key clearly.
func TestPKCS11WithoutCgo(t *testing.T) {
	_, err := signer.LoadSeal("pkcs11:object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so", "testdata/none.pem")
	if err == nil {
		t.Fatal("no error")
	}
	uri, _ := signer.ParsePKCS11URI("pkcs11:object=seal?module-path=/m.so")
	if _, err := signer.OpenPKCS11(uri, signer.PKCS11Options{}); !errors.Is(err, signer.ErrPKCS11Unavailable) || err.Error() != "signer: PKCS#11 needs a build with cgo" {
		t.Fatalf("%v", err)
	}
}
