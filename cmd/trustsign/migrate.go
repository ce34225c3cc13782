package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	bolt "go.etcd.io/bbolt"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/store/postgres"
)

func newAdminMigrateCmd() *cobra.Command {
	var (
		from, to string
		batch    int
	)
	cmd := &cobra.Command{
		Use:   "migrate --from DIR --to postgres://…",
		Short: "Copy a stopped server's bbolt store into an empty PostgreSQL database (see docs/operations.md)",
		Long: `Copy the bbolt store of the data directory DIR (which no running server may hold) into an empty PostgreSQL
database: every bucket (profiles, officers, clients, codes, sessions, throttles, rate windows, signing requests and
their documents, maintenance windows, the audit log, its signed heads and its end-of-log mark), in transactions of
--batch keys. Then it compares every bucket of the two stores (key count and a SHA-256 of keys and values), keys
the database's audit chain with DIR/` + audit.ChainKeyFileName + ` (the bbolt store's, so the copied log verifies under it),
verifies the audit log on the database as 'audit verify' does (with DIR/` + defaultHeadsFile + ` when present), and
prints what it copied per bucket (JSON Lines).

A database that already holds records is refused (no merge). The source's audit log must verify before anything is
copied. Exit codes: 0 copied and verified; 1 refused or failed (a failure after copying started leaves a partial
copy: drop and re-create the database before running migrate again); 64 usage error; 66 DIR, its store or its chain
key cannot be read, or the store is in use.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case from == "":
				return usageErr("--from DIR is required (the data directory of the bbolt store)")
			case !strings.HasPrefix(to, "postgres://") && !strings.HasPrefix(to, "postgresql://"):
				return usageErr("--to must be a postgres:// URL")
			case batch <= 0:
				return usageErr("--batch must be positive")
			}
			return migrate(cmd, from, to, batch)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "data `DIR` holding the bbolt store (the server stopped)")
	cmd.Flags().StringVar(&to, "to", "", "the PostgreSQL database `URL` (postgres://…), empty")
	cmd.Flags().IntVar(&batch, "batch", 1000, "keys per transaction on the database")
	return cmd
}

// migrate copies the bbolt store of dir into the PostgreSQL database at url: see newAdminMigrateCmd.
func migrate(cmd *cobra.Command, dir, url string, batch int) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	src, err := bbolt.OpenDir(dir, bbolt.Options{ReadOnly: true})
	switch {
	case errors.Is(err, os.ErrNotExist):
		return failErr(exitNoInput, fmt.Errorf("no trustsign store in %s (no %s)", dir, bbolt.FileName))
	case errors.Is(err, store.ErrLocked):
		return failErr(exitNoInput, fmt.Errorf("the store in %s is in use by a running server: stop it first (migrate copies a store nothing writes to)", dir))
	case err != nil:
		return failErr(exitNoInput, err)
	}
	defer src.Close()
	keyFile := filepath.Join(dir, audit.ChainKeyFileName)
	switch {
	case src.Schema() < bbolt.SchemaVersion:
		return failErr(exitFailed, fmt.Errorf("the store in %s is at schema %d: start and stop 'trustsign serve --data %s' once with this version to upgrade it, then migrate", dir, src.Schema(), dir))
	case src.AuditChainKey() == nil:
		return failErr(exitNoInput, fmt.Errorf("the audit chain key %s is missing: restore it from the backup of the data directory", keyFile))
	}
	if err := knownBuckets(src); err != nil {
		return failErr(exitFailed, err)
	}
	heads, err := headsOf(dir)
	if err != nil {
		return failErr(exitNoInput, err)
	}
	want, err := audit.VerifyStore(ctx, src, audit.VerifyOptions{Heads: heads})
	if err != nil {
		return failErr(exitFailed, fmt.Errorf("the audit log in %s does not verify, nothing copied: %w (see 'trustsign audit verify --data %s')", dir, err, dir))
	}

	dst, err := postgres.Open(ctx, url, postgres.Options{NoChainKey: true})
	if err != nil {
		return failErr(exitFailed, fmt.Errorf("opening the database: %w", err))
	}
	defer dst.Close()
	// one migrate at a time per database: two copying at once would each find it empty and merge
	lock, err := dst.Pool().Acquire(ctx)
	if err != nil {
		return failErr(exitFailed, fmt.Errorf("opening the database: %w", err))
	}
	defer lock.Release()
	var locked bool
	if err := lock.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, migrateLock).Scan(&locked); err != nil {
		return failErr(exitFailed, fmt.Errorf("taking the migrate lock: %w", err))
	}
	if !locked {
		return failErr(exitFailed, errors.New("another 'trustsign admin migrate' is copying into this database, nothing copied"))
	}
	defer lock.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock) //nolint:errcheck
	start := time.Now()
	counts, err := store.Copy(ctx, src.Backend(), dst.Backend(), store.CopyOptions{BatchKeys: batch,
		Progress: func(bucket string, n int) {
			if n%(100*batch) == 0 {
				fmt.Fprintf(stderr, "copying %s: %d keys\n", bucket, n)
			}
		}})
	took := time.Since(start)
	switch {
	case errors.Is(err, store.ErrNotEmpty):
		return failErr(exitFailed, fmt.Errorf("the database already holds trustsign records, nothing copied (migrate does not merge: give an empty database): %w", err))
	case err != nil:
		return failErr(exitFailed, fmt.Errorf("copying: %w; the database holds a partial copy: drop and re-create it before running migrate again", err))
	}

	// key the copied audit chain with the bbolt store's key file, as every node of the database will
	pg, err := postgres.Open(ctx, url, postgres.Options{ChainKeyFile: keyFile, AdoptChainKey: true})
	if err != nil {
		return failErr(exitFailed, fmt.Errorf("opening the copy with the chain key %s: %w", keyFile, err))
	}
	defer pg.Close()
	got, err := audit.VerifyStore(ctx, pg, audit.VerifyOptions{Heads: heads})
	if err != nil {
		return failErr(exitFailed, fmt.Errorf("the audit log on the database does not verify: %w", err))
	}
	if got.Records != want.Records || got.LastSeq != want.LastSeq || got.Keyed != want.Keyed || got.Seals != want.Seals {
		return failErr(exitFailed, fmt.Errorf("the audit log on the database differs from the source's: %d records (last %d, %d keyed, %d seals), the source has %d (last %d, %d keyed, %d seals)",
			got.Records, got.LastSeq, got.Keyed, got.Seals, want.Records, want.LastSeq, want.Keyed, want.Seals))
	}
	total := 0
	for _, c := range counts {
		total += c.Keys
		printJSON(cmd.OutOrStdout(), map[string]any{"bucket": c.Bucket, "keys": c.Keys, "bytes": c.Bytes})
	}
	fmt.Fprintf(stderr, "copied %d keys in %s (%.0f keys/s); audit log intact on the database: %d records (last %d, %d keyed), %d seals\n",
		total, took.Round(time.Millisecond), float64(total)/max(took.Seconds(), 1e-3), got.Records, got.LastSeq, got.Keyed, got.Seals)
	fmt.Fprintf(stderr, "every node needs %s and %s from %s in its --data directory\n", audit.ChainKeyFileName, profile.SecretFileName, dir)
	return nil
}

// migrateLock is the pg_advisory_lock key a migrate holds on its database while it copies ("tsmigrat" in ASCII; the
// store's own migration lock is another key).
const migrateLock int64 = 0x74736d6967726174

// knownBuckets refuses a store holding buckets this binary does not know (one written by a newer trustsign): they
// would not be copied.
func knownBuckets(db *bbolt.DB) error {
	known := append(store.Buckets(), "meta") // bbolt's own schema bucket stays behind
	if err := db.Checkpoint(); err != nil {  // the buckets listed below are the bbolt file's
		return err
	}
	return db.Bolt().View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if !slices.Contains(known, string(name)) {
				return fmt.Errorf("the store holds a bucket this trustsign does not know (%q): upgrade trustsign before migrating", name)
			}
			return nil
		})
	})
}

// headsOf reads the signed heads of DIR's heads file (none when there is no file), as 'audit verify --data' does.
func headsOf(dir string) ([]audit.Record, error) {
	p := filepath.Join(dir, defaultHeadsFile)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var heads []audit.Record
	err = audit.ReadJSONLines(f, func(r audit.Record, _ int) error {
		if r.Kind == audit.KindSeal {
			heads = append(heads, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("heads file %s: %w", p, err)
	}
	return heads, nil
}
