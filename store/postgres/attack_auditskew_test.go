package postgres_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/postgres"
)

// queueAs queues an audit event as a node whose clock reads at would (the key store.Tx.Audit makes: be64(queue
// time in ns) + 8 bytes naming the node's DB + be64(counter)), with the event's time from the same clock.
func queueAs(t *testing.T, db *postgres.DB, node byte, n uint64, at time.Time, kind, subject string) {
	t.Helper()
	key := make([]byte, 24)
	binary.BigEndian.PutUint64(key, uint64(at.UnixNano()))
	key[8] = node
	binary.BigEndian.PutUint64(key[16:], n)
	raw, _ := json.Marshal(map[string]any{"time": at, "kind": kind, "actor": "system", "subject": subject})
	if err := db.Backend().Update(context.Background(), func(tx store.KVTx) error { return tx.Put("audit_pending", key, raw) }); err != nil {
		t.Fatal(err)
	}
}

func reviewKnown(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("TRUSTSIGN_REVIEW_KNOWN") != "1" {
		t.Skip("known defect, not fixed: " + what + " (TRUSTSIGN_REVIEW_KNOWN=1 runs it)")
	}
}

// TestAuditLaggingClockEventChainedNotLost answers: a node whose clock is an hour behind queues an event whose key
// sorts before events already chained. It is not lost and not left unverifiable: the chainer takes the queue in key
// order whatever it chained before, so the event is chained after them, and the chain verifies.
func TestAuditLaggingClockEventChainedNotLost(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	ctx := context.Background()
	db := openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName)})
	for i := 0; i < 3; i++ {
		if err := db.AppendAudit(ctx, audit.Event{Time: time.Now(), Kind: "test.ontime", Actor: "system"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ChainAudit(ctx); err != nil {
		t.Fatal(err)
	}
	queueAs(t, db, 0xB, 1, time.Now().Add(-time.Hour), "test.lagging", "b")
	if _, err := db.ChainAudit(ctx); err != nil {
		t.Fatal(err)
	}
	recs := chainRecords(t, db)
	if len(recs) != 4 || recs[3].Kind != "test.lagging" {
		t.Fatalf("chain: %+v", recs)
	}
	if rep, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{}); err != nil || rep.Pending != 0 {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

// TestAuditLaggingClockKeepsCausalOrder: node A commits "request.prepared"; node B, whose clock is a minute behind,
// then commits "request.signed" for it. When both wait in the queue together (one chaining cycle: the chainer lingers
// 5 ms, a batch takes 30-60 ms), the chain records the signature before the request it signs: the queue is ordered
// by each node's clock, not by commit. Demonstrated only (a fix orders the queue by the database: a sequence, or
// the server's clock).
func TestAuditLaggingClockKeepsCausalOrder(t *testing.T) {
	reviewKnown(t, "the audit queue is ordered by each node's clock")
	url := testURL(t)
	dir := t.TempDir()
	ctx := context.Background()
	db := openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName)})
	now := time.Now()
	queueAs(t, db, 0xA, 1, now, "request.prepared", "r1")                 // committed first
	queueAs(t, db, 0xB, 1, now.Add(-time.Minute), "request.signed", "r1") // committed second, on the lagging node
	if _, err := db.ChainAudit(ctx); err != nil {
		t.Fatal(err)
	}
	recs := chainRecords(t, db)
	if len(recs) != 2 || recs[0].Kind != "request.prepared" {
		t.Errorf("chain order %s, %s: the signature is chained before the request it signs (committed in the other order)", recs[0].Kind, recs[1].Kind)
	}
}

// TestAuditLaggingClockNotReportedStale: a node whose clock is two minutes behind queues an event that the chainer
// will take within milliseconds. audit verify with the seal interval (1 minute) judges the queue's age by the
// lagging clock and fails the log as stale, saying no node is chaining, while chaining works. Demonstrated only.
func TestAuditLaggingClockNotReportedStale(t *testing.T) {
	reviewKnown(t, "audit verify judges queued events by the queueing node's clock")
	url := testURL(t)
	dir := t.TempDir()
	ctx := context.Background()
	db := openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName)})
	queueAs(t, db, 0xB, 1, time.Now().Add(-2*time.Minute), "test.lagging", "b") // queued just now, by B's clock 2 min ago
	_, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{SealInterval: time.Minute, Now: time.Now()})
	var be *audit.BrokenError
	if errors.As(err, &be) && be.Stale {
		t.Errorf("an event queued a moment ago by a node two minutes behind fails verification: %v", err)
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// TestAuditOneNodesShutdownSealDoesNotExemptTheOthers: with several nodes on one database, node B stopping cleanly
// writes a "shutdown" seal while node A goes on writing. audit verify's seal-age check exempts a log whose newest
// seal is a shutdown seal ("the service stopped cleanly; records after it were written while it was stopped"), so
// from then on A's records may stay unsealed for any time (A's sealer broken, its seal token gone, or the records
// after B's shutdown seal cut off) and verify --seal-interval still passes. On bbolt a shutdown seal meant the
// service had stopped; on PostgreSQL it only means one node did, so a node there stops with a "node-stop" seal,
// which exempts nothing: what follows it must be sealed within the interval. A deployment whose nodes all stopped
// (nothing after the last node-stop seal) is not stale however late it is checked.
func TestAuditOneNodesShutdownSealDoesNotExemptTheOthers(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	ctx := context.Background()
	db := openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName)})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	t0 := time.Now().UTC()
	event := func(at time.Time) {
		t.Helper()
		if err := db.AppendAudit(ctx, audit.Event{Time: at, Kind: "test.write", Actor: "system"}); err != nil {
			t.Fatal(err)
		}
	}
	event(t0)
	if _, err := (&audit.Sealer{Signer: key, Clock: fixedClock{t0}}).SealNow(ctx, db, audit.SealStart); err != nil { // A and B start
		t.Fatal(err)
	}
	event(t0.Add(10 * time.Second))
	if _, err := (&audit.Sealer{Signer: key, Clock: fixedClock{t0.Add(20 * time.Second)}}).SealNow(ctx, db, audit.SealNodeStop); err != nil { // B stops
		t.Fatal(err)
	}
	for i := 1; i <= 60; i++ { // A writes for an hour and never seals
		event(t0.Add(20*time.Second + time.Duration(i)*time.Minute))
	}
	if _, err := db.ChainAudit(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{SealInterval: time.Minute, Now: t0.Add(61 * time.Minute)})
	var be *audit.BrokenError
	if !errors.As(err, &be) || !be.Stale {
		t.Errorf("an hour of records unsealed after one node's shutdown seal passes verify --seal-interval 1m: %+v, %v", rep, err)
	}
}
