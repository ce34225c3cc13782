package cms

import (
	"crypto"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
)

func BenchmarkSignDetached(b *testing.B) {
	p := testpki.New()
	for _, bc := range []struct {
		name string
		id   testpki.Identity
		hash crypto.Hash
	}{
		{"RSA-3072-SHA256", p.RSA, crypto.SHA256},
		{"ECDSA-P256-SHA256", p.EC256, crypto.SHA256},
		{"ECDSA-P384-SHA384", p.EC384, crypto.SHA384},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := digest(bc.hash, content)
			opts := SignOptions{Hash: bc.hash, Signer: bc.id.Key, Certificate: bc.id.Cert, Chain: bc.id.Chain, PAdES: true}
			for b.Loop() {
				if _, err := SignDetached(d, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	der := append(sign(b, testpki.New().RSA, crypto.SHA256), make([]byte, 8192)...)
	b.SetBytes(int64(len(der)))
	for b.Loop() {
		if _, err := Parse(der); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	p := testpki.New()
	for _, bc := range []struct {
		name string
		id   testpki.Identity
		hash crypto.Hash
	}{
		{"RSA-3072-SHA256", p.RSA, crypto.SHA256},
		{"ECDSA-P256-SHA256", p.EC256, crypto.SHA256},
		{"ECDSA-P384-SHA384", p.EC384, crypto.SHA384},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sd := mustParse(b, sign(b, bc.id, bc.hash))
			d := digest(bc.hash, content)
			cb := func(crypto.Hash) ([]byte, error) { return d, nil }
			for b.Loop() {
				r, err := sd.Verify(cb)
				if err != nil || !r.SignatureOK {
					b.Fatal(err, r.SignatureErr)
				}
			}
		})
	}
}
