package bbolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Suite{Open: func(t *testing.T, dir string) store.Backend {
		db, err := bbolt.Open(filepath.Join(dir, "trustsign.db"), bbolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return db.Backend()
	}})
}

func TestConformanceNoBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	storetest.Run(t, storetest.Suite{Open: func(t *testing.T, dir string) store.Backend {
		db, err := bbolt.Open(filepath.Join(dir, "trustsign.db"), bbolt.Options{NoBatch: true})
		if err != nil {
			t.Fatal(err)
		}
		return db.Backend()
	}})
}

func TestSecondProcessGetsErrLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustsign.db")
	db, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// bbolt's flock is per open file description, so a second Open in this process contends like a second process.
	start := time.Now()
	_, err = bbolt.Open(path, bbolt.Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if time.Since(start) > 10*time.Second { // LockTimeout is 100 ms: only a hang would come near this
		t.Fatal("waited too long for the lock")
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustsign.db")
	db, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := bbolt.Open(path, bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	err = ro.Update(context.Background(), func(tx *store.Tx) error { return tx.DeleteCode("p", "x") })
	if err == nil {
		t.Fatal("write on a read-only store succeeded")
	}
}
