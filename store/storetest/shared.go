package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
)

// testCounterWindows: CountEvent counts within a fixed window, refuses past the limit with the time left, starts
// a new window once one ended, and the sweep removes ended windows only.
func testCounterWindows(t *testing.T, s Suite) {
	db, _ := open(t, s)
	count := func(key string, at time.Time) (bool, time.Duration) {
		t.Helper()
		var ok bool
		var wait time.Duration
		must(t, db.Update(ctx, func(tx *store.Tx) (err error) {
			ok, wait, err = tx.CountEvent(key, 2, time.Minute, at)
			return err
		}))
		return ok, wait
	}
	steps := []struct {
		at   time.Duration
		key  string
		ok   bool
		wait time.Duration
	}{
		{0, "a", true, 0},
		{10 * time.Second, "a", true, 0},
		{20 * time.Second, "a", false, 40 * time.Second},
		{30 * time.Second, "a", false, 30 * time.Second}, // refused events are not written: still limit+1
		{30 * time.Second, "b", true, 0},
		{time.Minute, "a", true, 0}, // a's window ended at t0+1m: a new one until t0+2m
	}
	for i, st := range steps {
		if ok, wait := count(st.key, t0.Add(st.at)); ok != st.ok || wait != st.wait {
			t.Fatalf("step %d (%s at +%v): %v, %v; want %v, %v", i, st.key, st.at, ok, wait, st.ok, st.wait)
		}
	}
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		if w, err := tx.CounterWindowOf("a", t0.Add(time.Minute)); err != nil || w.Count != 1 || !w.End.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("a's new window: %+v %v", w, err)
		}
		if _, _, err := tx.CountEvent("", 1, time.Minute, t0); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("window without a key: %v", err)
		}
		n, err := tx.DeleteCounterWindowsEndedBefore(t0.Add(90*time.Second), 0) // b ended at +1m30s, a lives on
		if err != nil || n != 1 {
			t.Errorf("ended windows removed: %d %v", n, err)
		}
		if w, _ := tx.CounterWindowOf("a", t0.Add(time.Minute)); w.Count != 1 {
			t.Errorf("a live window was swept: %+v", w)
		}
		if w, _ := tx.CounterWindowOf("b", t0.Add(30*time.Second)); w.Count != 0 {
			t.Errorf("b's window kept: %+v", w)
		}
		return nil
	}))
	// many keys, swept in bounded batches
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		for i := range 25 {
			if _, _, err := tx.CountEvent(fmt.Sprint("k", i), 1, time.Minute, t0.Add(time.Duration(i)*time.Second)); err != nil {
				return err
			}
		}
		return nil
	}))
	total := 0
	for {
		var n int
		must(t, db.Update(ctx, func(tx *store.Tx) (err error) {
			n, err = tx.DeleteCounterWindowsEndedBefore(t0.Add(time.Hour), 10)
			return err
		}))
		if n > 10 {
			t.Fatalf("a batch of 10 removed %d", n)
		}
		total += n
		if n < 10 {
			break
		}
	}
	if total != 26 { // the 25 and a
		t.Errorf("swept %d windows, want 26", total)
	}
}

// testCounterWindowOfInView: CounterWindowOf reads; it answers in a read transaction, also for a window that has
// ended (it removed the ended window's index entry, a write, which a read transaction refuses).
func testCounterWindowOfInView(t *testing.T, s Suite) {
	db, _ := open(t, s)
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		_, _, err := tx.CountEvent("k", 5, time.Minute, t0)
		return err
	}))
	for _, at := range []time.Time{t0.Add(time.Second), t0.Add(2 * time.Minute)} {
		var w store.CounterWindow
		if err := db.View(ctx, func(tx *store.Tx) (err error) { w, err = tx.CounterWindowOf("k", at); return err }); err != nil {
			t.Fatalf("CounterWindowOf at %v in a read transaction: %v", at.Sub(t0), err)
		}
		if want := map[bool]int{true: 1, false: 0}[at.Before(t0.Add(time.Minute))]; w.Count != want {
			t.Errorf("at %v: count %d, want %d", at.Sub(t0), w.Count, want)
		}
	}
}

// testCounterConcurrent: CountEvent's check and count are one step: of many concurrent transactions on one key,
// exactly limit pass (several API nodes share a limit through it).
func testCounterConcurrent(t *testing.T, s Suite) {
	db, _ := open(t, s)
	const attempts, limit = 40, 5
	var wg sync.WaitGroup
	var passed atomic.Int32
	for range attempts {
		wg.Go(func() {
			var ok bool
			err := db.Update(ctx, func(tx *store.Tx) (err error) {
				ok, _, err = tx.CountEvent("addr", limit, time.Minute, t0)
				return err
			})
			if err != nil {
				t.Error(err)
			}
			if ok {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if passed.Load() != limit {
		t.Errorf("%d of %d concurrent events passed a limit of %d", passed.Load(), attempts, limit)
	}
}

// testVerifyReports: a report is found by its link id until it expires, is stored under the id's hash, keeps at
// most keep reports (the oldest go first) and is swept at expiry.
func testVerifyReports(t *testing.T, s Suite) {
	db, _ := open(t, s)
	put := func(id string, at time.Time, keep int) error {
		return db.Update(ctx, func(tx *store.Tx) error {
			return tx.PutVerifyReport(id, store.VerifyReport{Expires: at.Add(30 * time.Minute), Report: []byte(`{"file":"` + id + `"}`)}, at, keep)
		})
	}
	get := func(id string, at time.Time) (store.VerifyReport, error) {
		var r store.VerifyReport
		err := db.View(ctx, func(tx *store.Tx) (err error) {
			r, err = tx.VerifyReportOf(id, at)
			return err
		})
		return r, err
	}
	must(t, put("r1", t0, 3))
	must(t, put("r2", t0.Add(time.Minute), 3))
	if r, err := get("r1", t0.Add(29*time.Minute)); err != nil || string(r.Report) != `{"file":"r1"}` {
		t.Errorf("r1: %q %v", r.Report, err)
	}
	if err := put("r1", t0.Add(2*time.Minute), 3); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a taken id stored again: %v", err)
	}
	if _, err := get("r1", t0.Add(30*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired report is still served: %v", err)
	}
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if _, err := tx.KV().Get("verify_reports", []byte("r1")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the link id is a key of the store: %v", err)
		}
		return nil
	}))
	must(t, put("r3", t0.Add(2*time.Minute), 3))
	must(t, put("r4", t0.Add(3*time.Minute), 3)) // three kept: r1 goes
	if _, err := get("r1", t0.Add(3*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the oldest report is kept past the count: %v", err)
	}
	for _, id := range []string{"r2", "r3", "r4"} {
		if _, err := get(id, t0.Add(3*time.Minute)); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		n, err := tx.DeleteVerifyReportsExpiredBefore(t0.Add(32 * time.Minute)) // r2 (+31m) and r3 (+32m)
		if err != nil || n != 2 {
			t.Errorf("expired reports removed: %d %v", n, err)
		}
		return nil
	}))
	if _, err := get("r4", t0.Add(32*time.Minute)); err != nil {
		t.Errorf("a live report was swept: %v", err)
	}
	if err := put("r5", t0.Add(time.Hour), 3); err != nil { // the put sweeps r4 as well
		t.Fatal(err)
	}
	must(t, db.View(ctx, func(tx *store.Tx) error {
		n := 0
		err := tx.KV().Scan("verify_reports", nil, nil, func(_, _ []byte) (bool, error) { n++; return true, nil })
		if n != 1 {
			t.Errorf("%d reports stored after every other expired, want 1", n)
		}
		return err
	}))
}

// testSettings: settings are absent until put, replaced by a put, and survive a reopen.
func testSettings(t *testing.T, s Suite) {
	dir := t.TempDir()
	db := store.New(s.Open(t, dir))
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.Setting(store.SettingProfileSecretFingerprint); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unset setting: %v", err)
		}
		if err := tx.PutSetting("", []byte("x")); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("setting without a name: %v", err)
		}
		if err := tx.PutSetting(store.SettingProfileSecretFingerprint, []byte("one")); err != nil {
			return err
		}
		return tx.PutSetting(store.SettingProfileSecretFingerprint, []byte("two"))
	}))
	must(t, db.Close())
	db = store.New(s.Open(t, dir))
	t.Cleanup(func() { db.Close() })
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if v, err := tx.Setting(store.SettingProfileSecretFingerprint); err != nil || string(v) != "two" {
			t.Errorf("setting after reopen: %q %v", v, err)
		}
		return nil
	}))
}
