package audit_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/trustsign/trustsign/audit"
)

// Append events, seal the head, export and verify offline.
func Example() {
	log := &memLog{} // in production: a store.Tx inside the transaction that makes the change
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, kind := range []string{"profile.register", "code.issue", "code.redeem"} {
		if _, err := audit.Append(log, audit.Event{Time: at, Kind: kind, Actor: "holder:p1", Subject: "p1"}); err != nil {
			panic(err)
		}
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := (&audit.Sealer{Signer: key}).Seal(context.Background(), log); err != nil {
		panic(err)
	}
	var export bytes.Buffer
	n, _ := audit.Export(context.Background(), log, &export)
	rep, err := audit.VerifyJSONLines(&export, audit.VerifyOptions{})
	fmt.Println(n, rep.Records, rep.Seals, rep.Unsealed, err)
	// Output: 4 4 1 0 <nil>
}
