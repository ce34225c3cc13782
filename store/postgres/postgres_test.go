package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store/postgres/pgtest"

	bolt "go.etcd.io/bbolt"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/store/postgres"
	"github.com/trustsign/trustsign/store/storetest"
)

// testURL returns the test server's URL from TRUSTSIGN_TEST_POSTGRES, or skips the test.
func testURL(t testing.TB) string {
	t.Helper()
	return pgtest.ServerURL(t)
}

// schemaFor names a schema after a directory, so each suite test gets its own tables and a reopen of the same
// directory finds them again.
func schemaFor(dir string) string {
	h := sha256.Sum256([]byte(dir))
	return "t_" + hex.EncodeToString(h[:10])
}

func openIn(t *testing.T, url, dir string, opts postgres.Options) *postgres.DB {
	t.Helper()
	opts.Schema = schemaFor(dir)
	db, err := postgres.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropSchema(t, url, opts.Schema) })
	return db
}

// dropSchema removes a test's schema once the test is over (the server is throw-away, but tests run repeatedly).
func dropSchema(t testing.TB, url, schema string) {
	db, err := postgres.Open(context.Background(), url, postgres.Options{NoChainKey: true})
	if err != nil {
		t.Logf("dropping %s: %v", schema, err)
		return
	}
	defer db.Close()
	if _, err := db.Pool().Exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
		t.Logf("dropping %s: %v", schema, err)
	}
}

func TestConformance(t *testing.T) {
	url := testURL(t)
	storetest.Run(t, storetest.Suite{Open: func(t *testing.T, dir string) store.Backend {
		return openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, "audit-chain.key")}).Backend()
	}})
}

func TestClosedStoreReturnsErrClosed(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	db := openIn(t, url, dir, postgres.Options{NoChainKey: true})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	err := db.Backend().Update(context.Background(), func(store.KVTx) error { return nil })
	if !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Update after Close: %v, want ErrClosed", err)
	}
}

func TestChainKeyOfAnotherNodeRefused(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	keyA, keyB := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	db := openIn(t, url, dir, postgres.Options{ChainKeyFile: keyA})
	db.Close()
	// the same key file reopens
	db = openIn(t, url, dir, postgres.Options{ChainKeyFile: keyA})
	db.Close()
	// a node without the key, or with a key of its own, is refused rather than forking the chain
	for _, opts := range []postgres.Options{{ChainKeyFile: keyB}} {
		opts.Schema = schemaFor(dir)
		if _, err := postgres.Open(context.Background(), url, opts); !errors.Is(err, postgres.ErrChainKeyMissing) {
			t.Fatalf("open with %s: %v, want ErrChainKeyMissing", opts.ChainKeyFile, err)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	url := testURL(t)
	db := openIn(t, url, t.TempDir(), postgres.Options{NoChainKey: true})
	defer db.Close()
	kv := db.Backend()
	keys := [][]byte{{0xFF}, {0xFF, 0xFF}, {0xFF, 0xFF, 0x00}, {0xFF, 0xFE}, {0x00}, {0x01, 0xFF}, {0x02}}
	ctx := context.Background()
	if err := kv.Update(ctx, func(tx store.KVTx) error {
		for _, k := range keys {
			if err := tx.Put("p", k, []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		prefix []byte
		want   int
	}{
		{[]byte{0xFF}, 4},
		{[]byte{0xFF, 0xFF}, 2},
		{[]byte{0x01}, 1},
		{[]byte{0x01, 0xFF}, 1},
		{nil, 7},
	}
	for _, tc := range tests {
		n := 0
		if err := kv.View(ctx, func(tx store.KVTx) error {
			return tx.Scan("p", tc.prefix, nil, func(k, v []byte) (bool, error) { n++; return true, nil })
		}); err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("prefix %x: %d keys, want %d", tc.prefix, n, tc.want)
		}
	}
}

// TestSerializationFailureRetried interleaves two read-modify-write transactions on one key so that the second
// fails with a serialization failure; it is run again and sees the first one's write. The second transaction's fn
// swallows the failure on its first run: that must not pass as a commit either.
func TestSerializationFailureRetried(t *testing.T) {
	url := testURL(t)
	db := openIn(t, url, t.TempDir(), postgres.Options{NoChainKey: true})
	defer db.Close()
	kv := db.Backend()
	ctx := context.Background()
	if err := kv.Update(ctx, func(tx store.KVTx) error { return tx.Put("c", []byte("n"), []byte("0")) }); err != nil {
		t.Fatal(err)
	}
	read2, commit1 := make(chan struct{}), make(chan struct{})
	done1 := make(chan error, 1)
	go func() {
		done1 <- kv.Update(ctx, func(tx store.KVTx) error {
			v, err := tx.Get("c", []byte("n"))
			if err != nil {
				return err
			}
			<-read2 // the second transaction has read the old value
			return tx.Put("c", []byte("n"), append(append([]byte{}, v...), '1'))
		})
		close(commit1)
	}()
	runs := 0
	err := kv.Update(ctx, func(tx store.KVTx) error {
		runs++
		v, err := tx.Get("c", []byte("n"))
		if err != nil {
			return err
		}
		if runs == 1 {
			close(read2)
			<-commit1
		}
		_ = tx.Put("c", []byte("n"), append(append([]byte{}, v...), '2')) // swallowed: see above
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	var got string
	if err := kv.View(ctx, func(tx store.KVTx) error {
		v, err := tx.Get("c", []byte("n"))
		got = string(v)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got != "012" || runs != 2 {
		t.Fatalf("value %q after %d runs, want \"012\" after 2 (the failed run retried on the committed value)", got, runs)
	}
}

// TestNodesStartTogether opens one new database from several nodes at once: the migrations run once and every
// node ends up with the one chain key the first node made.
func TestNodesStartTogether(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "audit-chain.key")
	const nodes = 4
	errs := make(chan error, nodes)
	dbs := make(chan *postgres.DB, nodes)
	t.Cleanup(func() { dropSchema(t, url, schemaFor(dir)) })
	for i := 0; i < nodes; i++ {
		go func() {
			db, err := postgres.Open(context.Background(), url, postgres.Options{ChainKeyFile: keyFile, Schema: schemaFor(dir)})
			errs <- err
			dbs <- db
		}()
	}
	var ids []string
	for i := 0; i < nodes; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		db := <-dbs
		defer db.Close()
		if db.Schema() != postgres.SchemaVersion() {
			t.Errorf("schema %d, want %d", db.Schema(), postgres.SchemaVersion())
		}
		ids = append(ids, db.AuditChainKey().ID())
	}
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("nodes keyed the chain differently: %v", ids)
		}
	}
}

// TestAdoptChainKeyOfCopiedBboltStore copies a bbolt store's buckets (with its keyed audit log) into a new
// database, as a migration does: Open refuses the database until told to adopt the bbolt key file, and afterwards
// the chain (the copied records and one appended on PostgreSQL) verifies under that key.
func TestAdoptChainKeyOfCopiedBboltStore(t *testing.T) {
	url := testURL(t)
	ctx := context.Background()
	boltDir := t.TempDir()
	src, err := bbolt.Open(filepath.Join(boltDir, bbolt.FileName), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if err := src.Update(ctx, func(tx *store.Tx) error {
			return tx.Audit(audit.Event{Time: t0.Add(time.Duration(i) * time.Minute), Kind: "test.copy", Actor: "system"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	type pair struct {
		bucket string
		k, v   []byte
	}
	var pairs []pair
	if err := src.Checkpoint(); err != nil { // the raw read below sees the bbolt file only
		t.Fatal(err)
	}
	if err := src.Bolt().View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				pairs = append(pairs, pair{string(name), bytes.Clone(k), bytes.Clone(v)})
				return nil
			})
		})
	}); err != nil {
		t.Fatal(err)
	}
	src.Close()

	dir := t.TempDir()
	raw := openIn(t, url, dir, postgres.Options{NoChainKey: true})
	if err := raw.Backend().Update(ctx, func(tx store.KVTx) error {
		for _, p := range pairs {
			if err := tx.Put(p.bucket, p.k, p.v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	keyFile := filepath.Join(boltDir, audit.ChainKeyFileName)
	opts := postgres.Options{ChainKeyFile: keyFile, Schema: schemaFor(dir)}
	if _, err := postgres.Open(ctx, url, opts); !errors.Is(err, postgres.ErrChainKeyMissing) {
		t.Fatalf("open without AdoptChainKey: %v, want ErrChainKeyMissing", err)
	}
	opts.AdoptChainKey = true
	db, err := postgres.Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(ctx, func(tx *store.Tx) error {
		return tx.Audit(audit.Event{Time: t0.Add(time.Hour), Kind: "test.after", Actor: "system"})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChainAudit(ctx); err != nil { // the event was queued (store.AuditQueue)
		t.Fatal(err)
	}
	v := audit.NewVerifier(audit.VerifyOptions{ChainKey: db.AuditChainKey()})
	n := 0
	if err := db.ScanAudit(ctx, 1, func(seq uint64, raw []byte) error {
		var r audit.Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		n++
		return v.Next(r, n)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Done(); err != nil || n != 4 {
		t.Fatalf("%d records, verify: %v", n, err)
	}
}

// TestServerRestartRecovered restarts the server under an open store (testdb.sh restart): the pool's connections
// are cut, and the next transactions reconnect by themselves. The server restarted is a throw-away one of its own
// (testdb.sh start), not the one TRUSTSIGN_TEST_POSTGRES names: other packages' tests use that one at the same time,
// and a restart under them fails their commits in flight (api's multi-node tests saw 503s from it in CI).
func TestServerRestartRecovered(t *testing.T) {
	testURL(t) // skips without a test server: then PostgreSQL is likely not installed either
	url, dataDir := pgtest.OwnServer(t, "./testdb.sh", "start")
	db := openIn(t, url, t.TempDir(), postgres.Options{NoChainKey: true, MaxConns: 4})
	defer db.Close()
	ctx := context.Background()
	put := func(k string) error {
		return db.Backend().Update(ctx, func(tx store.KVTx) error { return tx.Put("r", []byte(k), []byte("v")) })
	}
	// fill the pool with idle connections, which the restart will cut
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _ = put(fmt.Sprint("warm", i)) }()
	}
	wg.Wait()
	if out, err := exec.Command("./testdb.sh", "restart", dataDir).CombinedOutput(); err != nil {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	for i := 0; i < 8; i++ {
		if err := put(fmt.Sprint("after", i)); err != nil {
			t.Fatalf("write %d after the restart: %v", i, err)
		}
	}
}
