package bbolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
)

// Schema versions of the store file.
//
//	1  no meta bucket; the audit chain is unkeyed SHA-256 (binaries before the schema version existed)
//	2  meta bucket with the schema version; audit records from the chain key's keyedFrom on are HMAC-SHA-256
//	   under the chain key file beside the store (audit.ChainKeyFileName)
const SchemaVersion = 2

const (
	bMeta         = "meta"
	kSchema       = "schemaVersion"
	auditBucket   = "audit" // the typed store's audit bucket (read here only to find the last seq)
	schemaUnknown = 0       // a new, empty file
)

// ErrSchemaTooNew is matched (errors.Is) by the error Open returns for a store written by a newer trustsign.
var ErrSchemaTooNew = errors.New("store: schema newer than this binary")

// SchemaError is a store whose schema version this binary does not know.
type SchemaError struct{ Found, Known int }

func (e *SchemaError) Error() string {
	return fmt.Sprintf("store: schema version %d was written by a newer trustsign (this binary knows up to %d): upgrade trustsign, or restore a backup made by this version", e.Found, e.Known)
}

// Is makes errors.Is(err, ErrSchemaTooNew) true.
func (e *SchemaError) Is(target error) bool { return target == ErrSchemaTooNew }

// ErrChainKeyMissing is returned when the store's audit log is keyed but its chain key file is gone.
var ErrChainKeyMissing = errors.New("store: the audit chain key file is missing")

// migration moves a store from version to version+1 inside one read-write transaction. env carries what lives
// outside the file (the chain key), prepared before the transaction.
type migration struct {
	to    int
	about string
	run   func(tx *bolt.Tx, env *migrationEnv) error
}

type migrationEnv struct {
	lastAuditSeq uint64
}

// migrations is the table, in order; migrations[i] goes from version i+1 to i+2.
var migrations = []migration{
	{to: 2, about: "meta bucket with the schema version; audit chain keyed from the next record on",
		run: func(tx *bolt.Tx, env *migrationEnv) error {
			// nothing to rewrite: the unkeyed records stay as written and the chain key file (made before this
			// transaction) starts keying at lastAuditSeq+1; the first keyed record binds the unkeyed chain.
			_, err := tx.CreateBucketIfNotExists([]byte(bMeta))
			return err
		}},
}

// readSchema returns the file's schema version: the meta bucket's, 1 for a file with buckets but no meta bucket,
// 0 for an empty file.
func readSchema(tx *bolt.Tx) (int, error) {
	if m := tx.Bucket([]byte(bMeta)); m != nil {
		if v := m.Get([]byte(kSchema)); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 1 {
				return 0, fmt.Errorf("%w: schema version %q", store.ErrCorrupt, v)
			}
			return n, nil
		}
	}
	// (a new file's meta bucket may hold the write-ahead log's state only: that file is still empty)
	empty := true
	err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if string(name) != bMeta {
			empty = false
		}
		return nil
	})
	if empty {
		return schemaUnknown, err
	}
	return 1, err
}

func lastAuditSeq(tx *bolt.Tx) uint64 {
	b := tx.Bucket([]byte(auditBucket))
	if b == nil {
		return 0
	}
	k, _ := b.Cursor().Last()
	if len(k) != 8 {
		return 0
	}
	return audit.SeqFromKey(k)
}

// prepare checks the schema version, migrates an older store, and loads (or makes) the audit chain key.
func (db *DB) prepare(keyPath string) error {
	var (
		version int
		last    uint64
	)
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		version, err = readSchema(tx)
		last = lastAuditSeq(tx)
		return err
	}); err != nil {
		return err
	}
	if version > SchemaVersion {
		return &SchemaError{Found: version, Known: SchemaVersion}
	}
	db.schema = version
	key, err := audit.LoadChainKey(keyPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if db.opts.ReadOnly {
		// a read-only open neither migrates nor makes a key: the verifier reports a keyed log without its key
		db.SetAuditChainKey(key)
		return nil
	}
	switch {
	case key != nil && last == 0 && key.KeyedFrom != 1:
		// a new log under an existing key: key it from its first record
		key.KeyedFrom = 1
		if err := key.Save(keyPath); err != nil {
			return fmt.Errorf("store: writing the audit chain key: %w", err)
		}
	case key != nil:
		// an existing key is never moved: a store edited to look older cannot make keyed records pass as unkeyed
	case version < 2 || last == 0:
		// an unkeyed (schema 1) or empty log: key it from the next record on
		if key, err = audit.NewChainKey(nil, last+1); err != nil {
			return err
		}
		if err := key.Save(keyPath); err != nil {
			return fmt.Errorf("store: writing the audit chain key: %w", err)
		}
	default:
		return fmt.Errorf("%w: %s (the store's %d audit records are keyed with it; restore it from the backup of the data directory)", ErrChainKeyMissing, keyPath, last)
	}
	if version < SchemaVersion {
		env := &migrationEnv{lastAuditSeq: last}
		if err := db.bolt.Update(func(tx *bolt.Tx) error {
			for v := max(version, 1); v < SchemaVersion; v++ {
				m := migrations[v-1]
				if err := m.run(tx, env); err != nil {
					return fmt.Errorf("store: migrating to schema %d (%s): %w", m.to, m.about, err)
				}
			}
			meta, err := tx.CreateBucketIfNotExists([]byte(bMeta))
			if err != nil {
				return err
			}
			return meta.Put([]byte(kSchema), []byte(strconv.Itoa(SchemaVersion)))
		}); err != nil {
			return err
		}
		db.schema = SchemaVersion
	}
	if err := db.PrepareAuditTip(context.Background(), key, keyPath); err != nil {
		return err
	}
	db.SetAuditChainKey(key)
	return nil
}

// ErrAuditTruncated: the audit log's end does not match its keyed end-of-log mark (records were cut off, or the
// mark was deleted); the store is not opened for writing, which would move the mark past the cut.
var ErrAuditTruncated = store.ErrAuditTruncated

// Schema returns the store file's schema version (0 for a new file opened read-only).
func (db *DB) Schema() int { return db.schema }
