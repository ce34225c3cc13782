package postgres_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/postgres"
)

// openNode opens another node's handle on the database of dir (its own pool, the shared chain key file).
func openNode(t *testing.T, url, dir string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Options{
		ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName), Schema: schemaFor(dir), MaxConns: 24})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// chainRecords reads the chain.
func chainRecords(t *testing.T, db *postgres.DB) []audit.Record {
	t.Helper()
	var recs []audit.Record
	if err := db.ScanAudit(context.Background(), 1, func(_ uint64, raw []byte) error {
		var r audit.Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestAuditManyWritersOneChain: 32 writers on two nodes (two pools on one database) each commit 50 domain writes
// with one audit event, in two waves with a seal from each node between them, while both nodes also seal every few
// milliseconds. Afterwards there is one chain that verifies
// (hashes, MACs, the keyed tip, every seal), with every event exactly once, each writer's events in its commit
// order, and nothing left queued.
func TestAuditManyWritersOneChain(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	nodes := []*postgres.DB{openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName), MaxConns: 24}), openNode(t, url, dir)}
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sealer := &audit.Sealer{Signer: key}

	const writers, each = 32, 50
	stopSeal := make(chan struct{})
	var sealWG sync.WaitGroup
	var seals atomic.Int64
	for _, n := range nodes {
		sealWG.Add(1)
		go func() {
			defer sealWG.Done()
			for {
				select {
				case <-stopSeal:
					return
				case <-time.After(15 * time.Millisecond):
				}
				if ok, err := sealer.SealNow(ctx, n, audit.SealInterval); err != nil {
					t.Errorf("seal: %v", err)
				} else if ok {
					seals.Add(1)
				}
			}
		}()
	}
	var wg sync.WaitGroup
	write := func(from, to int) {
		for g := 0; g < writers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := nodes[g%2]
				for i := from; i < to; i++ {
					if err := db.Update(ctx, func(tx *store.Tx) error {
						if err := tx.KV().Put("w", []byte(fmt.Sprintf("%d.%d", g, i)), []byte("v")); err != nil {
							return err
						}
						return tx.Audit(audit.Event{Time: time.Now(), Kind: "test.write", Actor: fmt.Sprintf("system:%d", g), Subject: fmt.Sprintf("%d.%d", g, i)})
					}); err != nil {
						t.Errorf("writer %d, write %d: %v", g, i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	// two waves with a seal from each node between them, so that some seals certainly fall between events
	write(0, each/2)
	for _, n := range nodes {
		if _, err := sealer.SealNow(ctx, n, audit.SealInterval); err != nil {
			t.Fatal(err)
		}
		seals.Add(1)
	}
	write(each/2, each)
	close(stopSeal)
	sealWG.Wait()
	for _, n := range nodes {
		if _, err := n.ChainAudit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := audit.VerifyStore(ctx, nodes[0], audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{key.Public()}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pending != 0 || rep.Keyed != rep.Records || rep.Seals != int(seals.Load()) {
		t.Fatalf("report %+v, %d seals made", rep, seals.Load())
	}
	next := make([]int, writers) // each writer's next event in the chain
	events := 0
	for _, r := range chainRecords(t, nodes[1]) {
		if r.Kind != "test.write" {
			continue
		}
		events++
		var g, i int
		if _, err := fmt.Sscanf(r.Subject, "%d.%d", &g, &i); err != nil || g < 0 || g >= writers {
			t.Fatalf("record %d: subject %q", r.Seq, r.Subject)
		}
		if i != next[g] {
			t.Fatalf("record %d: writer %d's event %d, expected its event %d (lost, repeated or out of commit order)", r.Seq, g, i, next[g])
		}
		next[g]++
	}
	if events != writers*each {
		t.Fatalf("%d events in the chain, want %d", events, writers*each)
	}
	t.Logf("%d events and %d seals from 2 nodes, %d retries", events, seals.Load(), nodes[0].Retries()+nodes[1].Retries())
}

// lockedOut is a backend whose transactions never get the audit chain lock while locked is set: a store.DB over it
// queues events as on PostgreSQL but its chainer always finds another one at work, so the events stay queued for
// the chainer under test.
type lockedOut struct {
	store.Backend
	locked *atomic.Bool
}

func (b lockedOut) QueueAudit() bool { return true }

func (b lockedOut) Update(ctx context.Context, fn func(store.KVTx) error) error {
	return b.Backend.Update(ctx, func(kv store.KVTx) error { return fn(lockedOutTx{kv, b.locked}) })
}

type lockedOutTx struct {
	store.KVTx
	locked *atomic.Bool
}

func (tx lockedOutTx) TryLockAuditChain() (bool, error) {
	if tx.locked.Load() {
		return false, nil
	}
	return tx.KVTx.(store.AuditChainLocker).TryLockAuditChain()
}

// queueOnly returns a store.DB on db's database that queues audit events and, until the returned switch is turned
// off, chains none; it is closed (after the switch is turned off) when the test ends.
func queueOnly(t *testing.T, url, dir string) (*store.DB, *atomic.Bool) {
	t.Helper()
	locked := new(atomic.Bool)
	locked.Store(true)
	w := store.New(lockedOut{openNode(t, url, dir).Backend(), locked})
	key, err := audit.LoadChainKey(filepath.Join(dir, audit.ChainKeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	w.SetAuditChainKey(key)
	t.Cleanup(func() { locked.Store(false); w.Close() })
	return w, locked
}

// TestAuditChainerInterruptedLosesNothing queues 2000 events, then chains them with a chainer that is cut off again
// and again: its context cancelled after a few milliseconds, or its connections terminated by the server, at
// whatever point of a batch that falls. Every event ends up in the chain exactly once, and the chain verifies.
func TestAuditChainerInterruptedLosesNothing(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	ctx := context.Background()
	first := openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName)})
	w, _ := queueOnly(t, url, dir)
	const txs, per = 400, 5
	for i := 0; i < txs; i++ {
		if err := w.Update(ctx, func(tx *store.Tx) error {
			for j := 0; j < per; j++ {
				if err := tx.Audit(audit.Event{Time: time.Now(), Kind: "test.queued", Actor: "system", Subject: fmt.Sprintf("%d.%d", i, j)}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _, err := first.AuditPending(ctx); err != nil || n != txs*per {
		t.Fatalf("queued: %d, %v", n, err)
	}

	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	chainer := openNode(t, url+sep+"application_name=chainer_under_test", dir)
	killer, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(ctx)
	// Even rounds cancel the chainer's context after a delay that grows by half a millisecond a round, so that
	// early rounds are cut off at every step of a batch and later ones get through. Odd rounds wait until the
	// chainer's connection is inside a transaction, terminate it on the server (a transaction cut off before COMMIT
	// is run again on a new connection), and then cancel it as well.
	interrupted, killed, progressed := 0, 0, 0
	last := uint64(txs * per)
	for round := 0; ; round++ {
		n, _, err := first.AuditPending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n < last {
			progressed++
		}
		if last = n; n == 0 {
			break
		}
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { _, err := chainer.ChainAudit(cctx); done <- err }()
		if round%2 == 0 {
			time.Sleep(time.Duration(round) * time.Millisecond)
		} else {
			var cut int
			for i := 0; i < 200 && cut == 0; i++ {
				if err := killer.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
					WHERE application_name = 'chainer_under_test' AND state IN ('active', 'idle in transaction')`).Scan(&cut); err != nil {
					t.Fatal(err)
				}
			}
			if cut > 0 {
				killed++
			}
			time.Sleep(time.Duration(round) * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			interrupted++
		}
	}
	if _, err := chainer.ChainAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if interrupted < 2 || killed < 1 || progressed < 1 {
		t.Fatalf("only %d chaining runs were interrupted, %d cut off, %d chained some events before", interrupted, killed, progressed)
	}
	rep, err := audit.VerifyStore(ctx, first, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range chainRecords(t, first) {
		if seen[r.Subject] {
			t.Fatalf("event %s chained twice", r.Subject)
		}
		seen[r.Subject] = true
	}
	if len(seen) != txs*per || rep.Records != txs*per || rep.Pending != 0 {
		t.Fatalf("%d distinct events, report %+v; want %d", len(seen), rep, txs*per)
	}
	t.Logf("%d chaining runs interrupted, %d of them cut off from the server; %d chained some events first", interrupted, killed, progressed)
}

// TestAuditQueuedTooLongIsStale: events that wait to be chained are reported by verification, and fail it once the
// oldest has waited longer than the seal interval allows (no node chains); chained, the log verifies again.
func TestAuditQueuedTooLongIsStale(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	ctx := context.Background()
	db := openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName)})
	w, locked := queueOnly(t, url, dir)
	start := time.Now()
	for i := 0; i < 3; i++ {
		if err := w.AppendAudit(ctx, audit.Event{Time: time.Now(), Kind: "test.queued", Actor: "system"}); err != nil {
			t.Fatal(err)
		}
	}
	o := audit.VerifyOptions{SealInterval: time.Minute, Now: time.Now()}
	rep, err := audit.VerifyStore(ctx, db, o)
	if err != nil || rep.Pending != 3 || rep.Records != 0 {
		t.Fatalf("report %+v, %v; want 3 pending", rep, err)
	}
	if at, _ := time.Parse(time.RFC3339Nano, rep.OldestPending); at.Before(start.Add(-time.Second)) || at.After(time.Now()) {
		t.Fatalf("oldest pending %q, queued after %s", rep.OldestPending, start)
	}
	o.Now = time.Now().Add(5 * time.Minute)
	_, err = audit.VerifyStore(ctx, db, o)
	var be *audit.BrokenError
	if !errors.As(err, &be) || !be.Stale || !strings.Contains(be.Reason, "not chained") {
		t.Fatalf("events queued for 5 minutes: %v, want a stale log", err)
	}
	locked.Store(false)
	if _, err := db.ChainAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{}); err != nil || rep.Records != 3 || rep.Pending != 0 {
		t.Fatalf("after chaining: %+v, %v", rep, err)
	}
}

// TestAuditTruncatedChainDetected: records cut off the end of the chain the chainer wrote show, through the keyed
// tip it keeps, in verification and when a node opens the database.
func TestAuditTruncatedChainDetected(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	ctx := context.Background()
	db := openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName)})
	for i := 0; i < 10; i++ {
		if err := db.AppendAudit(ctx, audit.Event{Time: time.Now(), Kind: "test.event", Actor: "system"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ChainAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Backend().Update(ctx, func(tx store.KVTx) error {
		for seq := uint64(9); seq <= 10; seq++ {
			if err := tx.Delete("audit", audit.SeqKey(seq)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{})
	var be *audit.BrokenError
	if !errors.As(err, &be) || be.Seq != 9 {
		t.Fatalf("chain cut after 8 of 10: %v", err)
	}
	_, err = postgres.Open(ctx, url, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName), Schema: schemaFor(dir)})
	if !errors.Is(err, postgres.ErrAuditTruncated) {
		t.Fatalf("open: %v, want ErrAuditTruncated", err)
	}
}

// TestAuditUnreadableQueuedEntryChained: a queued value that cannot be read (damaged in the database) does not stop
// the chainer and does not vanish: it is chained as an audit.queued.unreadable record naming its key.
func TestAuditUnreadableQueuedEntryChained(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	ctx := context.Background()
	db := openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName)})
	bad := append(audit.SeqKey(uint64(time.Now().UnixNano())), make([]byte, 16)...)
	if err := db.Backend().Update(ctx, func(tx store.KVTx) error { return tx.Put("audit_pending", bad, []byte("{not json")) }); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(ctx, audit.Event{Time: time.Now(), Kind: "test.after", Actor: "system"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChainAudit(ctx); err != nil {
		t.Fatal(err)
	}
	recs := chainRecords(t, db)
	if len(recs) != 2 || recs[0].Kind != "audit.queued.unreadable" || recs[1].Kind != "test.after" {
		t.Fatalf("chain: %+v", recs)
	}
	if _, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestAuditCloseChainsQueued: a process that writes and closes its store at once (an admin command) leaves no
// event queued for the next node: Close chains what the DB queued.
func TestAuditCloseChainsQueued(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	ctx := context.Background()
	first := openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName)})
	cmd, err := postgres.Open(ctx, url, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName), Schema: schemaFor(dir)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := cmd.AppendAudit(ctx, audit.Event{Time: time.Now(), Kind: "test.admin", Actor: "admin"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyStore(ctx, first, audit.VerifyOptions{})
	if err != nil || rep.Records != 3 || rep.Pending != 0 {
		t.Fatalf("after the writer closed: %+v %v", rep, err)
	}
}
