package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
)

// testLeases: one holder among two at a time; the holder renews, the other waits until the lease runs out or is
// released.
func testLeases(t *testing.T, s Suite) {
	db, _ := open(t, s)
	const ttl = time.Minute
	try := func(holder string, at time.Time) bool {
		t.Helper()
		ok, err := db.TryLease(ctx, "sweep", holder, at, ttl)
		must(t, err)
		return ok
	}
	if !try("a", t0) {
		t.Fatal("a free lease was refused")
	}
	if try("b", t0.Add(time.Second)) {
		t.Fatal("b took the lease a holds")
	}
	if !try("a", t0.Add(50*time.Second)) {
		t.Fatal("the holder could not renew its lease")
	}
	if try("b", t0.Add(70*time.Second)) { // past the first term, within the renewed one
		t.Fatal("b took a renewed lease before it ran out")
	}
	if !try("b", t0.Add(50*time.Second+ttl)) { // exactly when it runs out
		t.Fatal("b could not take the lease a let run out")
	}
	if try("a", t0.Add(50*time.Second+ttl+time.Second)) {
		t.Fatal("a took back the lease b now holds")
	}
	must(t, db.ReleaseLease(ctx, "sweep", "a")) // not a's: nothing happens
	if try("a", t0.Add(50*time.Second+ttl+2*time.Second)) {
		t.Fatal("a released the lease b holds")
	}
	must(t, db.ReleaseLease(ctx, "sweep", "b"))
	if !try("a", t0.Add(50*time.Second+ttl+3*time.Second)) {
		t.Fatal("a released lease is still held")
	}
	if ok, err := db.TryLease(ctx, "seal", "b", t0.Add(50*time.Second+ttl+3*time.Second), ttl); err != nil || !ok {
		t.Fatalf("another name's lease: %v %v", ok, err)
	}
	must(t, db.View(ctx, func(tx *store.Tx) error {
		l, err := tx.Lease("seal")
		if err == nil && (l.Holder != "b" || !l.Until.Equal(t0.Add(50*time.Second+2*ttl+3*time.Second))) {
			err = fmt.Errorf("lease %+v", l)
		}
		return err
	}))
	_, err := db.TryLease(ctx, "", "a", t0, ttl)
	wantErr(t, err, store.ErrInvalid)
	_, err = db.TryLease(ctx, "x", "a", t0, 0)
	wantErr(t, err, store.ErrInvalid)
}

// testLeasesConcurrent: of N processes trying a free lease at once, exactly one gets it.
func testLeasesConcurrent(t *testing.T, s Suite) {
	db, _ := open(t, s)
	for round := range 5 {
		at := t0.Add(time.Duration(round) * time.Hour) // each round's lease has run out
		var wg sync.WaitGroup
		var won []string
		var mu sync.Mutex
		for i := range 6 {
			holder := fmt.Sprint("node", i)
			wg.Go(func() {
				ok, err := db.TryLease(ctx, "seal", holder, at, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					won = append(won, holder)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("round %d: %v took the lease at once, want exactly one", round, won)
		}
	}
}
