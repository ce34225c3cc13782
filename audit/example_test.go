package audit_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
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

// Key the chain, let someone who can write the store delete a record and recompute the hashes after it, and find it
// with the chain key.
func ExampleChainKey() {
	key, _ := audit.NewChainKey(nil, 1) // in production: audit-chain.key in the data directory, made by store/bbolt
	log := &keyedLog{key: key}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		audit.Append(log, audit.Event{Time: at, Kind: "code.issue", Actor: "system", Subject: fmt.Sprint(i)})
	}
	var r3 audit.Record
	json.Unmarshal(log.recs[2], &r3)
	r3.Seq, r3.PrevHash = 2, mustRecord(log.recs[0]).Hash
	r3.Hash = r3.ComputeHash() // the hashes can be recomputed; r3.MAC cannot
	forged, _ := json.Marshal(r3)
	lines := string(log.recs[0]) + "\n" + string(forged) + "\n"
	_, err := audit.VerifyJSONLines(strings.NewReader(lines), audit.VerifyOptions{ChainKey: key})
	fmt.Println(err)
	rep, err := audit.VerifyJSONLines(strings.NewReader(lines), audit.VerifyOptions{})
	fmt.Println(rep.MACsNotChecked, err)
	// Output:
	// audit: chain broken at record 2 (line 2): MAC does not match: the record was changed, removed or recomputed without the chain key
	// 2 <nil>
}

func mustRecord(raw []byte) audit.Record {
	var r audit.Record
	if err := json.Unmarshal(raw, &r); err != nil {
		panic(err)
	}
	return r
}
