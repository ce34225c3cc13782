package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/trustsign/trustsign/store"
)

// Cases for backends that run many callers' transactions in one commit (bbolt's group commit): a transaction
// reads its own writes over everything committed before it, one that fails takes only its own writes back, and
// what was acknowledged is there after a reopen.

// testKVOwnWrites: inside one transaction, Get, Scan and Last see the transaction's own puts and deletes merged
// with what is committed; a failing transaction leaves the committed state as it was.
func testKVOwnWrites(t *testing.T, s Suite) {
	db, _ := open(t, s)
	kv := db.Backend()
	must(t, kv.Update(ctx, func(tx store.KVTx) error {
		for _, k := range []string{"a/1", "a/2", "a/3", "b/1"} {
			if err := tx.Put("o", []byte(k), []byte("old"+k)); err != nil {
				return err
			}
		}
		return nil
	}))
	scan := func(tx store.KVTx, prefix, start string) string {
		var got []string
		var p, st []byte
		if prefix != "" {
			p = []byte(prefix)
		}
		if start != "" {
			st = []byte(start)
		}
		must(t, tx.Scan("o", p, st, func(k, v []byte) (bool, error) {
			got = append(got, string(k)+"="+string(v))
			return true, nil
		}))
		return fmt.Sprint(got)
	}
	last := func(tx store.KVTx) string {
		k, v, err := tx.Last("o")
		if errors.Is(err, store.ErrNotFound) {
			return "none"
		}
		must(t, err)
		return string(k) + "=" + string(v)
	}
	const (
		wantA     = "[a/2=new a/25=new a/4=new]"
		wantFrom  = "[a/25=new a/4=new b/1=oldb/1]"
		wantAfter = "[a/2=new a/25=new a/4=new z=new]"
	)
	change := func(tx store.KVTx) error {
		for _, k := range []string{"a/2", "a/25", "a/4"} {
			must(t, tx.Put("o", []byte(k), []byte("new")))
		}
		must(t, tx.Delete("o", []byte("a/3")))
		must(t, tx.Delete("o", []byte("a/1")))
		if v, err := tx.Get("o", []byte("a/2")); err != nil || string(v) != "new" {
			t.Errorf("own overwrite: %q %v", v, err)
		}
		if _, err := tx.Get("o", []byte("a/3")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("own delete: %v", err)
		}
		if got := scan(tx, "a/", ""); got != wantA {
			t.Errorf("scan a/ inside: %s, want %s", got, wantA)
		}
		if got := scan(tx, "", "a/25"); got != wantFrom {
			t.Errorf("scan from a/25 inside: %s, want %s", got, wantFrom)
		}
		if got := last(tx); got != "b/1=oldb/1" {
			t.Errorf("last inside: %s", got)
		}
		must(t, tx.Delete("o", []byte("b/1")))
		if got := last(tx); got != "a/4=new" {
			t.Errorf("last after deleting the last key: %s", got)
		}
		must(t, tx.Put("o", []byte("z"), []byte("new")))
		if got := last(tx); got != "z=new" {
			t.Errorf("last after a put past the end: %s", got)
		}
		return nil
	}
	boom := errors.New("boom")
	for _, run := range []func(context.Context, func(store.KVTx) error) error{kv.Update, kv.Batch} {
		err := run(ctx, func(tx store.KVTx) error {
			change(tx) //nolint:errcheck // always nil
			return boom
		})
		wantErr(t, err, boom)
		must(t, kv.View(ctx, func(tx store.KVTx) error {
			if got, want := scan(tx, "", ""), "[a/1=olda/1 a/2=olda/2 a/3=olda/3 b/1=oldb/1]"; got != want {
				t.Errorf("after a failed transaction: %s, want %s", got, want)
			}
			return nil
		}))
	}
	must(t, kv.Update(ctx, change))
	must(t, kv.View(ctx, func(tx store.KVTx) error {
		if got := scan(tx, "", ""); got != wantAfter {
			t.Errorf("committed: %s, want %s", got, wantAfter)
		}
		return nil
	}))
}

// testKVConcurrentWritersOneFails: many writers at once (Update and Batch), each writing its own key and a shared
// counter; some fail after writing. Only the failing ones' writes are missing, the counter counts exactly the
// others, and after a reopen every acknowledged write is there.
func testKVConcurrentWritersOneFails(t *testing.T, s Suite) {
	dir := t.TempDir()
	kv := s.Open(t, dir)
	const writers, each = 24, 6
	boom := errors.New("boom")
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		acked  []string
		failed []string
	)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("w/%02d/%d", g, i)
				fail := (g+i)%5 == 0
				run := kv.Update
				if i%2 == 1 {
					run = kv.Batch
				}
				err := run(ctx, func(tx store.KVTx) error {
					if err := tx.Put("cw", []byte(key), []byte(key)); err != nil {
						return err
					}
					if err := increment(tx); err != nil {
						return err
					}
					if v, err := tx.Get("cw", []byte(key)); err != nil || string(v) != key {
						return fmt.Errorf("own write of %s: %q %v", key, v, err)
					}
					if fail {
						return boom
					}
					return nil
				})
				mu.Lock()
				switch {
				case fail && errors.Is(err, boom):
					failed = append(failed, key)
				case !fail && err == nil:
					acked = append(acked, key)
				default:
					t.Errorf("%s (fail %v): %v", key, fail, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	check := func(kv store.Backend, when string) {
		if n := counter(t, kv); n != len(acked) {
			t.Errorf("%s: counter %d, want %d (a failing transaction must take back only its own writes)", when, n, len(acked))
		}
		must(t, kv.View(ctx, func(tx store.KVTx) error {
			for _, k := range acked {
				if _, err := tx.Get("cw", []byte(k)); err != nil {
					t.Errorf("%s: acknowledged %s: %v", when, k, err)
				}
			}
			for _, k := range failed {
				if _, err := tx.Get("cw", []byte(k)); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: failed %s was written: %v", when, k, err)
				}
			}
			return nil
		}))
	}
	check(kv, "before reopen")
	must(t, kv.Close())
	kv = s.Open(t, dir)
	defer kv.Close()
	check(kv, "after reopen")
	if len(failed) == 0 || len(acked) == 0 {
		t.Fatalf("%d acknowledged, %d failed: the test did not exercise both", len(acked), len(failed))
	}
}
