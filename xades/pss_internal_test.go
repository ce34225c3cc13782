package xades

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
)

// emsaPSSVerify (used when the mask hash differs from the digest's) agrees with crypto/rsa where both apply,
// including a modulus whose bit length is 1 mod 8 (the encoded message is one octet shorter than the modulus).
func TestEMSAPSSVerifyAgreesWithCryptoRSA(t *testing.T) {
	odd, err := rsa.GenerateKey(rand.Reader, 2049)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*rsa.PrivateKey{"3072": testpki.New().RSA.Key.(*rsa.PrivateKey), "2049": odd}
	digest := sha256.Sum256([]byte("umowa: 100.00 PLN"))
	for name, key := range keys {
		for _, salt := range []int{20, 32, 64} {
			sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: salt, Hash: crypto.SHA256})
			if err != nil {
				t.Fatal(err)
			}
			pub := &key.PublicKey
			if !emsaPSSVerify(pub, crypto.SHA256, crypto.SHA256, digest[:], sig, salt) {
				t.Errorf("%s bits, salt %d: a valid value does not verify", name, salt)
			}
			if emsaPSSVerify(pub, crypto.SHA256, crypto.SHA256, digest[:], sig, salt+1) {
				t.Errorf("%s bits, salt %d: verifies with another salt length", name, salt)
			}
			if verifyPSS(pub, crypto.SHA256, crypto.SHA256, digest[:], sig, 0) || emsaPSSVerify(pub, crypto.SHA256, crypto.SHA256, digest[:], sig, 0) {
				t.Errorf("%s bits, salt %d: verifies as an empty salt", name, salt)
			}
			if emsaPSSVerify(pub, crypto.SHA256, crypto.SHA512, digest[:], sig, salt) {
				t.Errorf("%s bits, salt %d: verifies with another mask hash", name, salt)
			}
			other := sha256.Sum256([]byte("umowa: 900.00 PLN"))
			if emsaPSSVerify(pub, crypto.SHA256, crypto.SHA256, other[:], sig, salt) {
				t.Errorf("%s bits, salt %d: verifies another digest", name, salt)
			}
			for _, bad := range [][]byte{sig[1:], append([]byte{0}, sig...), nil, pub.N.Bytes()} {
				if emsaPSSVerify(pub, crypto.SHA256, crypto.SHA256, digest[:], bad, salt) {
					t.Errorf("%s bits, salt %d: a malformed value verifies", name, salt)
				}
			}
			sig[len(sig)/2] ^= 1
			if emsaPSSVerify(pub, crypto.SHA256, crypto.SHA256, digest[:], sig, salt) {
				t.Errorf("%s bits, salt %d: a changed value verifies", name, salt)
			}
		}
	}
}
