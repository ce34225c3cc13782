package bbolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/storetest"
)

func openGroup(t *testing.T, opts Options) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), FileName), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The path before group commit still passes the suite (it is kept for measurements).
func TestConformanceBoltBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	storetest.Run(t, storetest.Suite{Open: func(t *testing.T, dir string) store.Backend {
		db, err := Open(filepath.Join(dir, FileName), Options{WritePath: WriteBoltBatch})
		if err != nil {
			t.Fatal(err)
		}
		return db.Backend()
	}})
}

// Concurrent writers share commits: fewer commits than transactions, every one of them acknowledged and there.
func TestGroupCommitSharesCommits(t *testing.T) {
	db := openGroup(t, Options{})
	kv := db.Backend()
	before := db.GroupCommitStats()
	const writers, each = 32, 8
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if err := kv.Update(context.Background(), func(tx store.KVTx) error {
					return tx.Put("g", fmt.Appendf(nil, "%02d/%d", g, i), []byte("v"))
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	st := db.GroupCommitStats()
	calls, commits := st.Calls-before.Calls, st.Commits-before.Commits
	if calls != writers*each {
		t.Fatalf("%d calls, want %d", calls, writers*each)
	}
	if commits >= calls {
		t.Fatalf("%d transactions took %d commits: nothing was grouped", calls, commits)
	}
	n := 0
	if err := kv.View(context.Background(), func(tx store.KVTx) error {
		return tx.Scan("g", nil, nil, func(k, v []byte) (bool, error) { n++; return true, nil })
	}); err != nil {
		t.Fatal(err)
	}
	if n != writers*each {
		t.Fatalf("%d keys, want %d", n, writers*each)
	}
	t.Logf("%d transactions in %d commits (largest group %d)", calls, commits, st.MaxGroup)
}

// A function that panics fails its own caller with the panic; the others of its group commit; the writer goes on.
func TestGroupCommitPanicStaysWithItsCaller(t *testing.T) {
	db := openGroup(t, Options{})
	kv := db.Backend()
	ctx := context.Background()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 16 {
		wg.Go(func() {
			<-start
			if i == 7 {
				defer func() {
					if r := recover(); r != "boom" {
						t.Errorf("the panicking caller recovered %v, want boom", r)
					}
				}()
				kv.Update(ctx, func(tx store.KVTx) error { //nolint:errcheck // panics
					tx.Put("p", []byte("panicked"), []byte("v")) //nolint:errcheck
					panic("boom")
				})
				t.Error("Update returned after its function panicked")
				return
			}
			if err := kv.Update(ctx, func(tx store.KVTx) error { return tx.Put("p", fmt.Appendf(nil, "%02d", i), []byte("v")) }); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if err := kv.View(ctx, func(tx store.KVTx) error {
		if _, err := tx.Get("p", []byte("panicked")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the panicking function's write: %v", err)
		}
		for i := range 16 {
			if _, err := tx.Get("p", fmt.Appendf(nil, "%02d", i)); err != nil && i != 7 {
				t.Errorf("write %d: %v", i, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := kv.Update(ctx, func(tx store.KVTx) error { return tx.Put("p", []byte("after"), nil) }); err != nil {
		t.Fatalf("the writer after a panic: %v", err)
	}
}

// Batch answers a function that only reads from a snapshot: no place in the queue, no commit.
func TestBatchThatOnlyReadsDoesNotCommit(t *testing.T) {
	db := openGroup(t, Options{})
	kv := db.Backend()
	ctx := context.Background()
	if err := kv.Update(ctx, func(tx store.KVTx) error { return tx.Put("r", []byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	before := db.GroupCommitStats()
	var got string
	if err := kv.Batch(ctx, func(tx store.KVTx) error {
		v, err := tx.Get("r", []byte("k"))
		got = string(v)
		return err
	}); err != nil || got != "v" {
		t.Fatalf("read-only batch: %q %v", got, err)
	}
	if st := db.GroupCommitStats(); st.Calls != before.Calls {
		t.Fatalf("a read-only Batch went to the writer (%d calls, was %d)", st.Calls, before.Calls)
	}
	// one that writes runs again in the writer, from the start, and commits
	runs := 0
	if err := kv.Batch(ctx, func(tx store.KVTx) error {
		runs++
		if _, err := tx.Get("r", []byte("k")); err != nil {
			return err
		}
		return tx.Put("r", []byte("k2"), []byte("v2"))
	}); err != nil {
		t.Fatal(err)
	}
	if st := db.GroupCommitStats(); st.Commits != before.Commits+1 || runs != 2 {
		t.Fatalf("a writing Batch: %d commits (was %d), %d runs", st.Commits, before.Commits, runs)
	}
}

// UpdateAhead answers when the function has run; the write it makes waits for nothing, and a later write made with
// the context it returned is refused when the commit of the first failed.
func TestUpdateAheadOrdersTheNextWrite(t *testing.T) {
	db := openGroup(t, Options{})
	ctx := context.Background()
	after, wait, err := db.UpdateAhead(ctx, func(tx *store.Tx) error { return tx.KV().Put("a", []byte("first"), nil) })
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(after, func(tx *store.Tx) error { return tx.KV().Put("a", []byte("second"), nil) }); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if err := db.View(ctx, func(tx *store.Tx) error {
		for _, k := range []string{"first", "second"} {
			if _, err := tx.KV().Get("a", []byte(k)); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// its own error comes at once, and nothing of it is written
	boom := errors.New("boom")
	_, _, err = db.UpdateAhead(ctx, func(tx *store.Tx) error {
		tx.KV().Put("a", []byte("no"), nil) //nolint:errcheck // dropped with the error below
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing UpdateAhead: %v", err)
	}

	// a commit that failed: the write made after it is refused, one made without its context is not
	after, _, err = db.UpdateAhead(ctx, func(tx *store.Tx) error { return tx.KV().Put("a", []byte("third"), nil) })
	if err != nil {
		t.Fatal(err)
	}
	group := store.AheadOf(after)
	if group == 0 {
		t.Fatal("UpdateAhead's context names no group")
	}
	db.writer.failed.Store(group) // as a commit that failed on the disk
	err = db.Update(after, func(tx *store.Tx) error { return tx.KV().Put("a", []byte("fourth"), nil) })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write after a lost one: %v, want ErrUnavailable", err)
	}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.KV().Put("a", []byte("unrelated"), nil) }); err != nil {
		t.Fatalf("unrelated write: %v", err)
	}
}

// A caller whose context ends before the writer takes its function withdraws it: it never runs.
func TestGroupCommitCanceledBeforeRunNeverRuns(t *testing.T) {
	db := openGroup(t, Options{})
	kv := db.Backend()
	block, inside := make(chan struct{}), make(chan struct{})
	go kv.Update(context.Background(), func(tx store.KVTx) error { close(inside); <-block; return nil }) //nolint:errcheck
	// the writer is busy: what is queued now waits until the blocking function returns
	<-inside
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- kv.Update(ctx, func(tx store.KVTx) error { ran <- struct{}{}; return tx.Put("c", []byte("k"), nil) })
	}()
	time.Sleep(20 * time.Millisecond) // most likely queued by now (if not, it is refused before queueing: the same answer)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Update: %v", err)
	}
	close(block)
	if err := kv.Update(context.Background(), func(tx store.KVTx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Fatal("a withdrawn function ran")
	default:
	}
}

// While one group is being committed the next one runs over its writes: read-modify-write transactions from many
// callers see every write before them (counter, Last and Scan agree with the number of transactions before), across
// groups and inside them.
func TestGroupCommitPipelineSerializable(t *testing.T) {
	db := openGroup(t, Options{})
	kv := db.Backend()
	ctx := context.Background()
	const writers, each = 16, 25
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				err := kv.Update(ctx, func(tx store.KVTx) error {
					n := 0
					if v, err := tx.Get("ps", []byte("n")); err == nil {
						fmt.Sscan(string(v), &n) //nolint:errcheck
					} else if !errors.Is(err, store.ErrNotFound) {
						return err
					}
					if n > 0 {
						k, _, err := tx.Last("pslog")
						if err != nil || string(k) != fmt.Sprintf("%06d", n) {
							return fmt.Errorf("counter %d, last log key %q %v", n, k, err)
						}
					}
					seen := 0
					if err := tx.Scan("pslog", nil, nil, func(k, v []byte) (bool, error) { seen++; return true, nil }); err != nil {
						return err
					}
					if seen != n {
						return fmt.Errorf("counter %d, %d log keys", n, seen)
					}
					if err := tx.Put("pslog", fmt.Appendf(nil, "%06d", n+1), nil); err != nil {
						return err
					}
					return tx.Put("ps", []byte("n"), fmt.Append(nil, n+1))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var n string
	if err := kv.View(ctx, func(tx store.KVTx) error {
		v, err := tx.Get("ps", []byte("n"))
		n = string(v)
		return err
	}); err != nil || n != fmt.Sprint(writers*each) {
		t.Fatalf("counter %s %v, want %d", n, err, writers*each)
	}
	st := db.GroupCommitStats()
	t.Logf("%d transactions in %d groups, %d commits", st.Calls, st.Groups, st.Commits)
}

// A Batch made after UpdateAhead reads the write it came after, even when it only reads (the snapshot attempt
// would not see a write still being committed).
func TestBatchAfterUpdateAheadReadsIt(t *testing.T) {
	db := openGroup(t, Options{})
	ctx := context.Background()
	for i := range 50 {
		key := fmt.Appendf(nil, "k%d", i)
		after, wait, err := db.UpdateAhead(ctx, func(tx *store.Tx) error { return tx.KV().Put("ah", key, []byte("v")) })
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Batch(after, func(tx *store.Tx) error {
			_, err := tx.KV().Get("ah", key)
			return err
		}); err != nil {
			t.Fatalf("read after UpdateAhead: %v", err)
		}
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	}
}
