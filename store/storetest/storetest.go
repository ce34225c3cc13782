// Package storetest is the conformance suite every store backend must pass: key-value semantics (ordering,
// atomicity, isolation, batching and group commit, durability across reopen) and, through the typed layer, the behaviour the
// consumers rely on (unique indexes, compare-and-set, expiry listings, scoped reads, the audit chain).
//
// Run it from a backend's tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Suite{Open: func(t *testing.T, dir string) store.Backend { ... }})
//	}
//
// It is test code only; nothing here is used at run time.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
)

// Suite describes a backend under test.
type Suite struct {
	// Open opens (or reopens) the backend whose data lives in dir. Called again with the same dir after Close,
	// it must see everything committed before.
	Open func(t *testing.T, dir string) store.Backend
}

// Run runs every conformance test.
func Run(t *testing.T, s Suite) {
	tests := []struct {
		name string
		fn   func(*testing.T, Suite)
	}{
		{"KV/GetPutDelete", testKVBasics},
		{"KV/ScanOrderPrefixStart", testKVScan},
		{"KV/RollbackOnError", testKVRollback},
		{"KV/ReadOnlyRejectsWrites", testKVReadOnly},
		{"KV/SerializableUpdates", testKVSerializable},
		{"KV/BatchAtomicAndIsolated", testKVBatch},
		{"KV/DurableAcrossReopen", testKVDurable},
		{"KV/CanceledContext", testKVCanceled},
		{"KV/OwnWritesInTransaction", testKVOwnWrites},
		{"KV/ConcurrentWritersOneFails", testKVConcurrentWritersOneFails},
		{"Profiles/UniqueIndexes", testProfileIndexes},
		{"Profiles/UpdateAndTimeIndexes", testProfileUpdate},
		{"Profiles/DeleteFreesIndexes", testProfileDelete},
		{"Profiles/ReleasePESEL", testReleasePESEL},
		{"Officers/SharedLoginNamespace", testOfficers},
		{"Officers/List", testOfficersList},
		{"Clients/KeyHashIndex", testClients},
		{"Codes/ReplaceDeleteExpire", testCodes},
		{"Sessions/Lifecycle", testSessions},
		{"LoginThrottle", testLoginThrottle},
		{"RateWindows/SurviveReopen", testRateWindows},
		{"Profiles/DecoyTakesFreeIndexesOnly", testDecoyProfile},
		{"Profiles/PESELSharedByPendingUntilClaimed", testPESELSharedByPending},
		{"LoginThrottleConcurrentAttempts", testLoginThrottleConcurrentAttempts},
		{"SigningRequests/CreateGetScoped", testSigReqScoped},
		{"SigningRequests/CompareAndSetRace", testSigReqCAS},
		{"SigningRequests/AttachSigned", testSigReqAttach},
		{"SigningRequests/ExpiredAndBatch", testSigReqExpired},
		{"SigningRequests/LargeDocument", testSigReqLarge},
		{"Maintenance/Windows", testMaintenance},
		{"Audit/ChainInTransaction", testAuditChain},
		{"Audit/ConcurrentAppends", testAuditConcurrent},
		{"Audit/SealAndHeads", testAuditSeal},
		{"Audit/KeyedChainRecomputeFails", testAuditKeyedChain},
		{"CounterWindows/FixedWindowAndSweep", testCounterWindows},
		{"CounterWindows/ConcurrentCount", testCounterConcurrent},
		{"CounterWindows/ReadEndedInView", testCounterWindowOfInView},
		{"VerifyReports/ExpiryAndCount", testVerifyReports},
		{"Settings/SurviveReopen", testSettings},
		{"Leases/OneHolderRenewExpireRelease", testLeases},
		{"Leases/ConcurrentTakeOneWins", testLeasesConcurrent},
		{"WebhookDeliveries/ClaimRescheduleDelete", testWebhookDeliveries},
		{"WebhookDeliveries/ConcurrentClaimsDisjoint", testWebhookClaimsConcurrent},
		{"Audit/EventsCommitWithTheirTransaction", testAuditEventsCommitWithTheirTransaction},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s) })
	}
}

func open(t *testing.T, s Suite) (*store.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db := store.New(s.Open(t, dir))
	t.Cleanup(func() { db.Close() })
	return db, dir
}

var ctx = context.Background()

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

func testKVBasics(t *testing.T, s Suite) {
	db, _ := open(t, s)
	kv := db.Backend()
	must(t, kv.View(ctx, func(tx store.KVTx) error {
		_, err := tx.Get("nothing", []byte("k"))
		wantErr(t, err, store.ErrNotFound)
		_, _, err = tx.Last("nothing")
		wantErr(t, err, store.ErrNotFound)
		return tx.Scan("nothing", nil, nil, func(k, v []byte) (bool, error) { t.Fatal("visited"); return false, nil })
	}))
	must(t, kv.Update(ctx, func(tx store.KVTx) error {
		must(t, tx.Put("b", []byte("k"), []byte("v1")))
		must(t, tx.Put("b", []byte("k"), []byte("v2")))
		must(t, tx.Put("b", []byte("empty"), nil))
		must(t, tx.Delete("b", []byte("missing")))
		must(t, tx.Delete("missing-bucket", []byte("k")))
		v, err := tx.Get("b", []byte("k"))
		if err != nil || string(v) != "v2" {
			t.Fatalf("read own write: %q %v", v, err)
		}
		return nil
	}))
	must(t, kv.View(ctx, func(tx store.KVTx) error {
		if v, err := tx.Get("b", []byte("empty")); err != nil || len(v) != 0 {
			t.Fatalf("empty value: %q %v", v, err)
		}
		return nil
	}))
	must(t, kv.Update(ctx, func(tx store.KVTx) error { return tx.Delete("b", []byte("k")) }))
	must(t, kv.View(ctx, func(tx store.KVTx) error {
		_, err := tx.Get("b", []byte("k"))
		wantErr(t, err, store.ErrNotFound)
		return nil
	}))
}

func testKVScan(t *testing.T, s Suite) {
	db, _ := open(t, s)
	kv := db.Backend()
	keys := []string{"a/3", "a/1", "b/1", "a/2", "a", "c"}
	must(t, kv.Update(ctx, func(tx store.KVTx) error {
		for _, k := range keys {
			if err := tx.Put("s", []byte(k), []byte("v"+k)); err != nil {
				return err
			}
		}
		return nil
	}))
	scan := func(prefix, start string, max int) []string {
		var got []string
		var p, st []byte
		if prefix != "" {
			p = []byte(prefix)
		}
		if start != "" {
			st = []byte(start)
		}
		must(t, kv.View(ctx, func(tx store.KVTx) error {
			return tx.Scan("s", p, st, func(k, v []byte) (bool, error) {
				if string(v) != "v"+string(k) {
					t.Errorf("value of %s: %s", k, v)
				}
				got = append(got, string(k))
				return max == 0 || len(got) < max, nil
			})
		}))
		return got
	}
	tests := []struct {
		prefix, start string
		max           int
		want          string
	}{
		{"", "", 0, "[a a/1 a/2 a/3 b/1 c]"},
		{"a/", "", 0, "[a/1 a/2 a/3]"},
		{"a/", "a/2", 0, "[a/2 a/3]"},
		{"", "a/25", 0, "[a/3 b/1 c]"},
		{"", "", 2, "[a a/1]"},
		{"z", "", 0, "[]"},
		{"a/", "b", 0, "[]"},
	}
	for _, tc := range tests {
		if got := fmt.Sprint(scan(tc.prefix, tc.start, tc.max)); got != tc.want {
			t.Errorf("scan(%q, %q, %d) = %s, want %s", tc.prefix, tc.start, tc.max, got, tc.want)
		}
	}
	must(t, kv.View(ctx, func(tx store.KVTx) error {
		k, v, err := tx.Last("s")
		if err != nil || string(k) != "c" || string(v) != "vc" {
			t.Errorf("Last = %s %s %v", k, v, err)
		}
		return nil
	}))
	boom := errors.New("boom")
	err := kv.View(ctx, func(tx store.KVTx) error {
		return tx.Scan("s", nil, nil, func(k, v []byte) (bool, error) { return true, boom })
	})
	wantErr(t, err, boom)
}

func testKVRollback(t *testing.T, s Suite) {
	db, _ := open(t, s)
	kv := db.Backend()
	boom := errors.New("boom")
	for _, run := range []func(context.Context, func(store.KVTx) error) error{kv.Update, kv.Batch} {
		err := run(ctx, func(tx store.KVTx) error {
			must(t, tx.Put("r", []byte("k"), []byte("v")))
			must(t, tx.Put("r2", []byte("k"), []byte("v")))
			return boom
		})
		wantErr(t, err, boom)
		must(t, kv.View(ctx, func(tx store.KVTx) error {
			for _, b := range []string{"r", "r2"} {
				if _, err := tx.Get(b, []byte("k")); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("write to %s survived a failed transaction", b)
				}
			}
			return nil
		}))
	}
}

func testKVReadOnly(t *testing.T, s Suite) {
	db, _ := open(t, s)
	err := db.Backend().View(ctx, func(tx store.KVTx) error { return tx.Put("b", []byte("k"), []byte("v")) })
	if err == nil {
		t.Fatal("Put in a read-only transaction succeeded")
	}
}

func counter(t *testing.T, kv store.Backend) int {
	var n int
	must(t, kv.View(ctx, func(tx store.KVTx) error {
		v, err := tx.Get("c", []byte("n"))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		n = len(v)
		return err
	}))
	return n
}

func increment(tx store.KVTx) error {
	v, err := tx.Get("c", []byte("n"))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return tx.Put("c", []byte("n"), append(bytes.Clone(v), 'x'))
}

func testKVSerializable(t *testing.T, s Suite) {
	db, _ := open(t, s)
	kv := db.Backend()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if err := kv.Update(ctx, increment); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n := counter(t, kv); n != 80 {
		t.Fatalf("80 read-modify-write updates left %d: lost updates", n)
	}
}

func testKVBatch(t *testing.T, s Suite) {
	db, _ := open(t, s)
	kv := db.Backend()
	var wg sync.WaitGroup
	var failed atomic.Int32
	boom := errors.New("boom")
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				fail := g%4 == 0 && i == 2
				err := kv.Batch(ctx, func(tx store.KVTx) error {
					if err := increment(tx); err != nil {
						return err
					}
					if fail {
						return boom
					}
					return nil
				})
				if fail {
					if !errors.Is(err, boom) {
						t.Errorf("failing batch call returned %v", err)
					}
					failed.Add(1)
				} else if err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	if n, want := counter(t, kv), 80-int(failed.Load()); n != want {
		t.Fatalf("batched increments: %d, want %d (a failing call must roll back only itself)", n, want)
	}
}

func testKVDurable(t *testing.T, s Suite) {
	dir := t.TempDir()
	kv := s.Open(t, dir)
	must(t, kv.Update(ctx, func(tx store.KVTx) error { return tx.Put("d", []byte("k"), []byte("v")) }))
	must(t, kv.Batch(ctx, func(tx store.KVTx) error { return tx.Put("d", []byte("k2"), []byte("v2")) }))
	must(t, kv.Close())
	kv = s.Open(t, dir)
	defer kv.Close()
	must(t, kv.View(ctx, func(tx store.KVTx) error {
		for _, k := range []string{"k", "k2"} {
			if _, err := tx.Get("d", []byte(k)); err != nil {
				t.Errorf("%s lost across reopen: %v", k, err)
			}
		}
		return nil
	}))
}

func testKVCanceled(t *testing.T, s Suite) {
	db, _ := open(t, s)
	c, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	err := db.Backend().Update(c, func(tx store.KVTx) error { called = true; return nil })
	if err == nil || called {
		t.Fatalf("Update with a canceled context: err %v, fn called %v", err, called)
	}
}
