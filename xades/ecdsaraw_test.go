package xades

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"testing"
)

// ecdsaDERToRaw gives r||s, each left-padded to the curve size, as big.Int arithmetic does, for signatures of every
// curve (r or s shorter than the size happens one time in 256), and refuses malformed values without panicking.
func TestECDSADERToRaw(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		key, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		size := (curve.Params().BitSize + 7) / 8
		for i := range 600 {
			digest := []byte{byte(i), byte(i >> 8), 1, 2, 3}
			der, err := ecdsa.SignASN1(rand.Reader, key, digest)
			if err != nil {
				t.Fatal(err)
			}
			var v struct{ R, S *big.Int }
			if _, err := asn1.Unmarshal(der, &v); err != nil {
				t.Fatal(err)
			}
			want := make([]byte, 2*size)
			v.R.FillBytes(want[:size])
			v.S.FillBytes(want[size:])
			got, err := ecdsaDERToRaw(der, size)
			if err != nil || string(got) != string(want) {
				t.Fatalf("%s: %x -> %x, %v; want %x", curve.Params().Name, der, got, err, want)
			}
		}
	}
	big := func(n int) []byte { b := make([]byte, n); b[0] = 0x7f; return b }
	seq := func(parts ...[]byte) []byte {
		var body []byte
		for _, p := range parts {
			body = append(body, p...)
		}
		return append([]byte{0x30, byte(len(body))}, body...)
	}
	integer := func(v []byte) []byte { return append([]byte{0x02, byte(len(v))}, v...) }
	for name, der := range map[string][]byte{
		"empty":            nil,
		"not a sequence":   {0x04, 0x00},
		"one integer":      seq(integer([]byte{1})),
		"three integers":   seq(integer([]byte{1}), integer([]byte{1}), integer([]byte{1})),
		"negative":         seq(integer([]byte{0x80}), integer([]byte{1})),
		"not minimal":      seq(integer([]byte{0, 1}), integer([]byte{1})),
		"empty integer":    seq(integer(nil), integer([]byte{1})),
		"too long":         seq(integer(big(33)), integer([]byte{1})),
		"trailing data":    append(seq(integer([]byte{1}), integer([]byte{1})), 0),
		"trailing in body": seq(integer([]byte{1}), integer([]byte{1}), []byte{5, 0}),
	} {
		if _, err := ecdsaDERToRaw(der, 32); err == nil {
			t.Errorf("%s: %x accepted", name, der)
		}
	}
	if got, err := ecdsaDERToRaw(seq(integer([]byte{0, 0x80}), integer([]byte{0})), 32); err != nil || got[31] != 0x80 || got[63] != 0 {
		t.Errorf("leading zero before a high bit, zero s: %x %v", got, err)
	}
}
