package audit_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/trustsign/trustsign/audit"
)

// The append cost of the ways to make a link unforgeable without the secret (the choice is HMAC, see ChainKey):
//
//	go test ./audit -run '^$' -bench Append
func BenchmarkAppend(b *testing.B) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, bc := range []struct {
		name string
		key  *audit.ChainKey
		sign bool
	}{
		{"unkeyed-sha256", nil, false},
		{"hmac-sha256", newChainKey(b, 1), false},
		{"hmac-plus-ecdsa-p256-signature-per-link", newChainKey(b, 1), true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := &keyedLog{key: bc.key}
			ev := audit.Event{Time: t0, Kind: "signature.create", Actor: "holder:p1", Subject: "r1",
				Details: map[string]string{"documentDigest": fmt.Sprintf("%064x", 1), "profile": "p1"}}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%4096 == 0 {
					l.recs = l.recs[:0] // keep memory flat; the cost is per append
				}
				r, err := audit.Append(l, ev)
				if err != nil {
					b.Fatal(err)
				}
				if bc.sign {
					d := sha256.Sum256([]byte(r.Hash))
					if _, err := ecKey.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
