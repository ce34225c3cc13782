package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
)

func newAdminBackupCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:         "backup --data DIR OUT",
		Annotations: map[string]string{annPathArgs: "yes"},
		Short:       "Write a consistent copy of the store to OUT (restore: see docs/operations.md)",
		Long: `Write a consistent copy of the data directory's store (one read transaction) to the file OUT, written
beside it under a temporary name and renamed when complete. The audit chain key (DIR/` + audit.ChainKeyFileName + `) is
not in the copy: keep a copy of that file too (it does not change), or the restored audit log cannot be verified
and the restored store will not open for writing.

Restore: stop the server, copy OUT to DIR/` + bbolt.FileName + ` and the chain key to DIR/` + audit.ChainKeyFileName + `, remove
DIR/` + bbolt.FileName + `-wal.0 and -wal.1 (the write-ahead log of the store the copy was taken from), start it.

The bbolt store only: a PostgreSQL store (--store, ` + storeEnv + `) is backed up with PostgreSQL's tools (pg_dump, or
pg_basebackup with WAL archiving), with a copy of DIR/` + audit.ChainKeyFileName + ` and DIR/` + profile.SecretFileName + `: see
docs/operations.md.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || args[0] == "" {
				return usageErr("backup takes one OUT file")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := args[0]
			if d, ok := cmd.Context().Value(servedDomainKey{}).(*domain); ok && d.db.bolt != nil {
				// forwarded over the admin socket: copy the running server's open store (OUT was made absolute)
				if err := checkBackupTarget(filepath.Dir(d.db.bolt.Path()), out); err != nil {
					return err
				}
				n, err := bbolt.BackupFile(cmd.Context(), d.db.bolt, out)
				if err != nil {
					return failErr(exitFailed, fmt.Errorf("backup to %s: %w", out, err))
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d bytes to %s (from the running server); keep a copy of the data directory's %s as well\n", n, out, audit.ChainKeyFileName)
				return nil
			}
			if storeURL, err := storeSetting(cmd); err != nil {
				return err
			} else if storeURL != "" {
				return usageErr("admin backup copies the bbolt store only: back up the PostgreSQL database with pg_dump (see docs/operations.md), and keep copies of %s and %s",
					filepath.Join(data, audit.ChainKeyFileName), filepath.Join(data, profile.SecretFileName))
			}
			if err := checkBackupTarget(data, out); err != nil {
				return err
			}
			db, err := bbolt.OpenDir(data, bbolt.Options{ReadOnly: true})
			switch {
			case errors.Is(err, os.ErrNotExist):
				return failErr(exitNoInput, fmt.Errorf("no trustsign store in %s", data))
			case errors.Is(err, store.ErrLocked):
				return failErr(exitNoInput, fmt.Errorf("the store in %s is held by the running server: back it up through the server, or stop it first", data))
			case err != nil:
				return failErr(exitNoInput, err)
			}
			defer db.Close()
			if a, err := os.Stat(db.Path()); err == nil {
				if b, err := os.Stat(out); err == nil && os.SameFile(a, b) {
					return usageErr("OUT is the store itself")
				}
			}
			n, err := bbolt.BackupFile(cmd.Context(), db, out)
			if err != nil {
				return failErr(exitFailed, fmt.Errorf("backup to %s: %w", out, err))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d bytes to %s; keep a copy of %s as well\n", n, out, filepath.Join(data, audit.ChainKeyFileName))
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "data", "data `DIR` of the server")
	return cmd
}

// checkBackupTarget refuses an OUT inside the data directory: written there by rename, a backup could replace the
// live store (the server would go on writing to the unlinked file, and every later write would be lost) or the
// audit chain key (the store would no longer open); and a copy beside what it copies is no backup.
func checkBackupTarget(data, out string) error {
	resolve := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			return r
		}
		return abs
	}
	dir, outDir := resolve(data), resolve(filepath.Dir(out))
	if rel, err := filepath.Rel(dir, outDir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return usageErr("OUT %s is inside the data directory %s: write the backup elsewhere (it could replace the live store or the chain key)", out, data)
	}
	return nil
}
