package bbolt

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestWALForeignFilesRefusedBesidePreWALFile: a store file with no "wal" state (e.g. a backup made by the build
// before the write-ahead log, restored by hand) put beside another store's log files must be refused with
// ErrForeignWAL, as the package documents for restored backups. recoverWAL used to adopt the log's id
// (it replayed the other store's writes onto it before this was caught in review).
func TestWALForeignFilesRefusedBesidePreWALFile(t *testing.T) {
	b, dst := t.TempDir(), t.TempDir()
	// store A: the log files of a live store, writes only in its log
	foreignLogIn(t, dst)
	// store B: an unrelated store file without a "wal" key (as a pre-WAL build wrote it)
	dbB, err := Open(filepath.Join(b, FileName), Options{WritePath: WriteSolo})
	if err != nil {
		t.Fatal(err)
	}
	dbB.Close()
	bb, err := bolt.Open(filepath.Join(b, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bb.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte(bMeta)).Delete([]byte(kWAL)) }); err != nil {
		t.Fatal(err)
	}
	bb.Close()
	// B's file replaces A's, A's log files stay beside it
	copyFiles(t, b, dst, FileName, "audit-chain.key")
	db, err := Open(filepath.Join(dst, FileName), Options{})
	if errors.Is(err, ErrForeignWAL) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Fatalf("open of a store file without log state beside another store's log: no error, %d of the other store's keys replayed into it", len(keys(t, db)))
}
