package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the pg_advisory_lock key Open holds while it migrates and keys the audit chain, so that nodes
// starting together do both once ("trustsign" in ASCII, as a number).
const migrationLock int64 = 0x7472757374736967

// ErrSchemaTooNew is matched (errors.Is) by the error Open returns for a database migrated by a newer trustsign.
var ErrSchemaTooNew = errors.New("store: schema newer than this binary")

// ErrChainKeyMissing: the database's audit log is keyed, and the chain key file is missing or holds another key.
var ErrChainKeyMissing = errors.New("store: the audit chain key file is missing or is not this database's")

// ErrAuditTruncated: the audit log's end does not match its keyed end-of-log mark.
var ErrAuditTruncated = store.ErrAuditTruncated

type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads the embedded files NNNN_name.sql, in order; their numbers must run 1, 2, 3, … .
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []migration
	for i, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("postgres: migration %s out of sequence", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	return out, nil
}

// SchemaVersion is the schema this binary migrates to (the number of embedded migrations).
func SchemaVersion() int {
	m, _ := migrations()
	return len(m)
}

// locked runs fn on one connection holding the migration advisory lock.
func (db *DB) locked(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connecting: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("postgres: taking the migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	return fn(conn.Conn())
}

// migrate applies the embedded migrations the database lacks, each in its own transaction with its
// schema_version row, under the advisory lock.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return db.locked(ctx, func(c *pgx.Conn) error {
		if db.opts.Schema != "" {
			if _, err := c.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{db.opts.Schema}.Sanitize()); err != nil {
				return fmt.Errorf("postgres: creating schema %s: %w", db.opts.Schema, err)
			}
		}
		if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("postgres: creating schema_version: %w", err)
		}
		var have int
		if err := c.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&have); err != nil {
			return fmt.Errorf("postgres: reading schema_version: %w", err)
		}
		if have > len(ms) {
			return fmt.Errorf("%w: the database is at schema %d, this binary knows up to %d: upgrade trustsign", ErrSchemaTooNew, have, len(ms))
		}
		for _, m := range ms[have:] {
			if err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, m.sql); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, $2)`, m.version, m.name)
				return err
			}); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.name, err)
			}
		}
		db.schema = len(ms)
		return nil
	})
}

const metaChainKeyID = "auditChainKeyID"

// prepareChainKey loads the audit chain key file, or makes it for a database whose log is not keyed yet, and checks
// the log's keyed end-of-log mark, under the advisory lock (nodes starting together on a new database must not each
// make a key). The key's ID is kept in the database, so a node with another key file is refused.
func (db *DB) prepareChainKey(ctx context.Context) error {
	path := db.opts.ChainKeyFile
	return db.locked(ctx, func(c *pgx.Conn) error {
		key, err := audit.LoadChainKey(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		var id string
		err = c.QueryRow(ctx, `SELECT value FROM store_meta WHERE name = $1`, metaChainKeyID).Scan(&id)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: reading the chain key ID: %w", err)
		}
		var last uint64
		if err := db.View(ctx, func(tx *store.Tx) error {
			var err error
			last, _, err = tx.AuditLast()
			return err
		}); err != nil {
			return err
		}
		switch {
		case id != "" && key == nil:
			return fmt.Errorf("%w: %s (the database's audit log is keyed with key %s; copy the file from another node or the backup)", ErrChainKeyMissing, path, id)
		case id != "" && key.ID() != id:
			return fmt.Errorf("%w: %s holds key %s, the database's audit log is keyed with %s", ErrChainKeyMissing, path, key.ID(), id)
		case id == "":
			if key == nil {
				if key, err = audit.NewChainKey(nil, last+1); err != nil {
					return err
				}
			} else if last == 0 {
				key.KeyedFrom = 1
			} else if !db.opts.AdoptChainKey {
				return fmt.Errorf("%w: %s exists but the database (with %d audit records) names no chain key (after copying a bbolt store, open once with AdoptChainKey)", ErrChainKeyMissing, path, last)
			}
			if err := key.Save(path); err != nil {
				return fmt.Errorf("store: writing the audit chain key: %w", err)
			}
			if _, err := c.Exec(ctx, `INSERT INTO store_meta (name, value) VALUES ($1, $2)`, metaChainKeyID, key.ID()); err != nil {
				return fmt.Errorf("postgres: recording the chain key ID: %w", err)
			}
		}
		if err := db.PrepareAuditTip(ctx, key, path); err != nil {
			return err
		}
		db.SetAuditChainKey(key)
		return nil
	})
}
