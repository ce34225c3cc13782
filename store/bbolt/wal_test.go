package bbolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
	bolt "go.etcd.io/bbolt"
)

// walStore opens a store whose checkpoints are paused: every commit stays in the write-ahead log only.
func walStore(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(filepath.Join(dir, FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.writer.paused.Store(true)
	return db
}

func putKeys(t *testing.T, db *DB, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := db.Backend().Update(context.Background(), func(tx store.KVTx) error {
			return tx.Put("walt", fmt.Appendf(nil, "k%04d", i), fmt.Appendf(nil, "v%d", i))
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// foreignLogIn leaves in dir the files of a store that crashed with five writes only in its log: the log files a
// store file of another store may be put beside.
func foreignLogIn(t *testing.T, dir string) {
	t.Helper()
	src := t.TempDir()
	db := walStore(t, src)
	putKeys(t, db, 0, 5)
	crashCopy(t, src, dir)
	db.Close()
}

// crashCopy copies the store file and its log files as a crash would leave them (the writer is not stopped).
func crashCopy(t *testing.T, from, to string) {
	t.Helper()
	copyFiles(t, from, to, FileName, FileName+"-wal.0", FileName+"-wal.1", "audit-chain.key")
}

// copyFiles copies the named files of directory from that exist into directory to.
func copyFiles(t *testing.T, from, to string, names ...string) {
	t.Helper()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(from, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func keys(t *testing.T, db *DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := db.Backend().View(context.Background(), func(tx store.KVTx) error {
		return tx.Scan("walt", nil, nil, func(k, v []byte) (bool, error) { out[string(k)] = string(v); return true, nil })
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWALReplaysAcknowledgedWrites: writes acknowledged but only in the log (no checkpoint) are there after a
// crash, for reading (a read-only open, which writes nothing) and after a writable open (replayed into bbolt, and
// still there after a clean close and one more open).
func TestWALReplaysAcknowledgedWrites(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	db := walStore(t, src)
	putKeys(t, db, 0, 50)
	if got := keys(t, db); len(got) != 50 {
		t.Fatalf("reads before any checkpoint see %d keys, want 50", len(got))
	}
	crashCopy(t, src, dst)
	db.Close()

	ro, err := Open(filepath.Join(dst, FileName), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(t, ro); len(got) != 50 || got["k0049"] != "v49" {
		t.Fatalf("read-only open sees %d keys, want 50", len(got))
	}
	if _, err := BackupFile(context.Background(), ro, filepath.Join(t.TempDir(), "b.db")); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("backup of a read-only store with a log not in its file: %v, want ErrUnavailable", err)
	}
	ro.Close()

	for round := 0; round < 2; round++ {
		rw, err := Open(filepath.Join(dst, FileName), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(t, rw); len(got) != 50 || got["k0000"] != "v0" {
			t.Fatalf("round %d: %d keys after the replay, want 50", round, len(got))
		}
		rw.Close()
	}
}

// TestWALRecordCutShort: a crash in the middle of a log write leaves a record cut short (or garbage after the
// last record): it was never acknowledged and is not replayed; everything before it is.
func TestWALRecordCutShort(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	db := walStore(t, src)
	putKeys(t, db, 0, 10)
	off := db.writer.wal.off
	slot := db.writer.wal.slot
	putKeys(t, db, 10, 11)
	crashCopy(t, src, dst)
	db.Close()
	name := filepath.Join(dst, fmt.Sprintf("%s-wal.%d", FileName, slot))
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// the last record's second half never reached the disk
	if _, err := f.WriteAt(bytes.Repeat([]byte{0}, 12), off+20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rw, err := Open(filepath.Join(dst, FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	got := keys(t, rw)
	if len(got) != 10 || got["k0010"] != "" {
		t.Fatalf("after a cut record: %d keys (k0010 %q), want the 10 before it", len(got), got["k0010"])
	}
}

// TestWALForeignFilesRefused: log files of another store beside a store file are refused, not replayed.
func TestWALForeignFilesRefused(t *testing.T) {
	b, dst := t.TempDir(), t.TempDir()
	foreignLogIn(t, dst)
	dbB, err := Open(filepath.Join(b, FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dbB.writer.paused.Store(true)
	putKeys(t, dbB, 100, 105)
	// b's log files next to a's store file
	copyFiles(t, b, dst, FileName+"-wal.0", FileName+"-wal.1")
	dbB.Close()
	if _, err := Open(filepath.Join(dst, FileName), Options{}); !errors.Is(err, ErrForeignWAL) {
		t.Fatalf("open with another store's log: %v, want ErrForeignWAL", err)
	}
}

// TestWALCheckpointsAndSwitchesFiles: with checkpoints on, the writes reach bbolt, the committer goes from one
// log file to the other, and a backup holds every acknowledged write.
func TestWALCheckpointsAndSwitchesFiles(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := 0; i < 5; i++ {
		putKeys(t, db, i*10, i*10+10)
		if err := db.writer.flush(); err != nil {
			t.Fatal(err)
		}
	}
	if st := db.GroupCommitStats(); st.Checkpoints < 5 || db.writer.applied < 4 {
		t.Errorf("checkpoints %d, applied generation %d: want at least 5 and 4", st.Checkpoints, db.writer.applied)
	}
	putKeys(t, db, 50, 60)
	out := filepath.Join(t.TempDir(), "copy.db")
	if _, err := BackupFile(context.Background(), db, out); err != nil {
		t.Fatal(err)
	}
	cp, err := Open(out, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if got := keys(t, cp); len(got) != 60 {
		t.Errorf("the backup holds %d keys, want 60", len(got))
	}
}

// TestHealthReportsTheLog: a write-ahead log that failed, or checkpoints failing for 10 s, make Health (and so
// /readyz) say so; a checkpoint that succeeds again clears it.
func TestHealthReportsTheLog(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Health(); err != nil {
		t.Fatalf("a new store: %v", err)
	}
	w := db.writer
	w.statMu.Lock()
	w.ckErr, w.ckFailingSince = errors.New("no space left on device"), time.Now().Add(-time.Second)
	w.statMu.Unlock()
	if err := db.Health(); err != nil {
		t.Errorf("checkpoints failing for a second: %v, want nil (the log keeps the commits)", err)
	}
	w.statMu.Lock()
	w.ckFailingSince = time.Now().Add(-checkpointsFailingFor - time.Second)
	w.statMu.Unlock()
	if err := db.Health(); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("checkpoints failing for 11 s: %v, want ErrUnavailable naming the cause", err)
	}
	putKeys(t, db, 0, 3)
	if err := db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if err := db.Health(); err != nil {
		t.Errorf("after a checkpoint that succeeded: %v", err)
	}
	w.walMu.Lock()
	w.walErr = fmt.Errorf("%w: writing the write-ahead log failed", store.ErrUnavailable)
	w.walMu.Unlock()
	if err := db.Health(); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("after a log write failed: %v", err)
	}
	if err := db.Backend().Update(context.Background(), func(tx store.KVTx) error { return tx.Put("walt", []byte("x"), []byte("y")) }); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("a commit after a log write failed: %v, want ErrUnavailable", err)
	}
}

// The checkpoint fills the pages of store.AppendOrderedBuckets to appendFill, and leaves the others at bbolt's
// half: the same ascending keys take fewer pages in an append-ordered bucket.
func TestCheckpointFillsAppendOrderedBuckets(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	appendOrdered := store.AppendOrderedBuckets[0]
	for batch := range 40 {
		if err := db.Backend().Update(context.Background(), func(tx store.KVTx) error {
			for i := range 50 {
				k := fmt.Appendf(nil, "k%06d", batch*50+i)
				v := bytes.Repeat([]byte{'v'}, 100)
				if err := tx.Put(appendOrdered, k, v); err != nil {
					return err
				}
				if err := tx.Put("other", k, v); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.Checkpoint(); err != nil {
			t.Fatal(err)
		}
	}
	pages := func(name string) int {
		var n int
		db.bolt.View(func(tx *bolt.Tx) error { //nolint:errcheck // reads only
			n = tx.Bucket([]byte(name)).Stats().LeafPageN
			return nil
		})
		return n
	}
	full, half := pages(appendOrdered), pages("other")
	if full == 0 || float64(full) > 0.65*float64(half) {
		t.Errorf("%s: %d leaf pages, other: %d; want the append-ordered bucket in at most 65 %% of the pages", appendOrdered, full, half)
	}
}
