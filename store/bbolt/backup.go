package bbolt

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the store file to w from one read transaction, so the store stays in use
// (writers are not blocked; the copy is the state at the transaction's start). It returns the bytes written.
// The copy is a complete bbolt file: restore it by putting it in place as FileName while the service is stopped.
// The audit chain key (audit.ChainKeyFileName) is not inside it: back that file up separately.
func Backup(ctx context.Context, db *DB, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// the groups only in the write-ahead log go into the file first (the copy holds every write acknowledged
	// before the call)
	if err := db.Checkpoint(); err != nil {
		return 0, err
	}
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, mapErr(err)
}

// BackupFile writes Backup to path atomically: a temporary file beside it (mode 0600), synced and renamed.
func BackupFile(ctx context.Context, db *DB, path string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := Backup(ctx, db, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, os.Rename(tmp.Name(), path)
}
