// Package bbolt is trustsign's embedded store backend: one bbolt file and its write-ahead log, one bucket per
// record kind or index (the layout is in package store). Writes go through group commit (groupcommit.go): one
// writer runs many callers' transactions and commits them together in one fsync'd log record (wal.go), answering
// each after it; checkpoints put the log's groups into the bbolt file in the background. It
// implements store.Backend, and DB embeds *store.DB so that everything the typed store offers (profiles, codes,
// sessions, signing requests, maintenance windows, the audit log) is available on the value Open returns.
//
// It is not safe for several processes: bbolt locks the file, so a second process (an admin command while the
// server runs) gets store.ErrLocked after Options.LockTimeout instead of waiting for ever.
package bbolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
)

// Options configures Open.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the file (default 1 s).
	LockTimeout time.Duration
	// WritePath is how Update and Batch reach the disk (default WriteGroupCommit).
	WritePath WritePath
	// MaxBatchDelay and MaxBatchSize tune bbolt's Batch (WriteBoltBatch only; defaults: 2 ms, 500 calls). Group
	// commit has neither: a group is what was run while the commit before it was on the disk.
	MaxBatchDelay time.Duration
	MaxBatchSize  int
	// NoBatch is WriteSolo (kept for the callers that set it).
	NoBatch bool
	// ReadOnly opens the file for reading only (audit export and verify); writes fail.
	ReadOnly bool
	// FileMode for a new file (default 0600).
	FileMode os.FileMode
	// ChainKeyFile is the audit chain key file (default: audit.ChainKeyFileName beside the store file). Open
	// makes it for a new or upgraded store and refuses a keyed store without it (ErrChainKeyMissing).
	ChainKeyFile string
}

// WritePath is how read-write transactions are committed. Every path makes the writes durable (fsync) before the
// call returns; they differ in how many callers share a commit, and in where it goes first (group commit: the
// write-ahead log).
type WritePath int

const (
	// WriteGroupCommit queues every Update and Batch to one writer that runs them as they come and commits what
	// ran while the previous commit was on the disk in one record of the write-ahead log, answering each caller
	// after that commit (groupcommit.go, wal.go); checkpoints move the records into the bbolt file. A failing
	// function rolls back only its own writes. The default.
	WriteGroupCommit WritePath = iota
	// WriteBoltBatch is the path before group commit: Update is one bbolt transaction and commit per call, Batch
	// is bbolt's DB.Batch (calls coalesced for up to MaxBatchDelay; a failing call makes the batch run again
	// without it). For measurements.
	WriteBoltBatch
	// WriteSolo is one bbolt transaction and commit per call, Batch included. For measurements.
	WriteSolo
)

// DB is an open bbolt store. Its embedded *store.DB gives the typed API.
type DB struct {
	*store.DB
	bolt   *bolt.DB
	opts   Options
	schema int
	writer *groupWriter // nil unless WriteGroupCommit on a writable store
	// roLayer, on a read-only store, holds the writes of a write-ahead log not yet in the file (reads go through it)
	roLayer *layer
}

// initialMmapSize is the address space mapped for the store file at the start (see Open).
const initialMmapSize = 1 << 30

// FileName is the store file's name inside a data directory.
const FileName = "trustsign.db"

// OpenDir opens the store file of a data directory (dir/trustsign.db). With ReadOnly, a missing file is an error
// (os.ErrNotExist) rather than created.
func OpenDir(dir string, opts Options) (*DB, error) {
	path := filepath.Join(dir, FileName)
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
	}
	return Open(path, opts)
}

// Open opens or creates the store file at path (its directory is created with mode 0700 if missing). It refuses
// a store written by a newer trustsign (ErrSchemaTooNew), migrates an older one to SchemaVersion, and keys the
// audit chain with the chain key file (see Options.ChainKeyFile).
func Open(path string, opts Options) (*DB, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.MaxBatchDelay <= 0 {
		opts.MaxBatchDelay = 2 * time.Millisecond
	}
	if opts.MaxBatchSize <= 0 {
		opts.MaxBatchSize = 500
	}
	if opts.FileMode == 0 {
		opts.FileMode = 0o600
	}
	if opts.NoBatch {
		opts.WritePath = WriteSolo
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
	}
	// InitialMmapSize: bbolt maps the file again whenever it outgrows the mapping, and to do so the commit waits
	// until no read transaction is open and holds off every new one, a stall of every request at once (measured:
	// flows at 1,000/s going from a p50 of 30 ms to 170 ms in the second the file grew past 128 MB). Mapping 1 GiB
	// of address space from the start (it is not memory: only the pages read are) removes these stalls until the
	// file reaches 1 GiB; past that bbolt grows the mapping 1 GiB at a time.
	b, err := bolt.Open(path, opts.FileMode, &bolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly,
		NoSync: false, NoFreelistSync: false, InitialMmapSize: initialMmapSize})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s", store.ErrLocked, path)
		}
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	b.MaxBatchDelay = opts.MaxBatchDelay
	b.MaxBatchSize = opts.MaxBatchSize
	// the write-ahead log of the last run (wal.go) first: nothing may read the file before it is in
	st, roLayer, err := recoverWAL(b, path, opts.ReadOnly)
	if err != nil {
		b.Close()
		return nil, err
	}
	db := &DB{bolt: b, opts: opts, roLayer: roLayer}
	db.DB = store.New(backend{db})
	keyPath := opts.ChainKeyFile
	if keyPath == "" {
		keyPath = filepath.Join(filepath.Dir(path), audit.ChainKeyFileName)
	}
	if err := db.prepare(keyPath); err != nil {
		b.Close()
		return nil, err
	}
	if opts.WritePath == WriteGroupCommit && !opts.ReadOnly {
		if db.writer, err = newGroupWriter(b, path, st); err != nil {
			b.Close()
			return nil, err
		}
	}
	return db, nil
}

// Path returns the file's path.
func (db *DB) Path() string { return db.bolt.Path() }

// Bolt exposes the bbolt handle (for stats and tests). What it reads lacks the writes still only in the
// write-ahead log: call Checkpoint first.
func (db *DB) Bolt() *bolt.DB { return db.bolt }

// Health is nil unless the store can no longer commit (a write-ahead log write failed: every later commit fails
// until a restart) or its checkpoints have failed for 10 s (commits go on into the log, which keeps them, but the
// file falls behind). For readiness probes.
func (db *DB) Health() error {
	if db.writer == nil {
		return nil
	}
	return db.writer.health()
}

// Checkpoint returns once every write acknowledged before the call is in the bbolt file (not only in the
// write-ahead log). On a read-only store it is an error when the log holds writes not in the file.
func (db *DB) Checkpoint() error {
	switch {
	case db.writer != nil:
		return db.writer.flush()
	case db.roLayer != nil:
		return fmt.Errorf("%w: the store has a write-ahead log not yet in its file: open it for writing once", store.ErrUnavailable)
	}
	return nil
}

// backend adapts DB to store.Backend without exporting View/Update over raw KV on DB itself (those names are
// taken by the typed layer).
type backend struct{ db *DB }

func (b backend) View(ctx context.Context, fn func(store.KVTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.view(fn)
}

// view runs fn on a read-only snapshot: bbolt's state under the write-ahead log's writes not yet in it.
func (db *DB) view(fn func(store.KVTx) error) error {
	var below []*layer
	var tx *bolt.Tx
	var err error
	switch {
	case db.writer != nil:
		below, tx, err = db.writer.snapshot(nil)
	default:
		tx, err = db.bolt.Begin(false)
		if db.roLayer != nil {
			below = []*layer{db.roLayer}
		}
	}
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	if len(below) == 0 {
		return mapErr(fn(kvTx{tx}))
	}
	return mapErr(fn(&overlay{tx: tx, below: below, readOnly: true}))
}

func (b backend) Update(ctx context.Context, fn func(store.KVTx) error) error {
	if b.db.writer != nil {
		return b.db.writer.update(ctx, fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return mapErr(b.db.bolt.Update(func(t *bolt.Tx) error { return fn(kvTx{t}) }))
}

// Batch, with group commit, first runs fn on a read-only snapshot of the last commit: when fn writes nothing (a
// right code checked without spending it, a window not yet due...) its answer stands, without a place in the
// writer's queue and without waiting for a commit: a read-only transaction on a committed state is serializable
// (the writer commits one group at a time), and what it read was committed. At fn's first write the snapshot run
// is abandoned and fn runs again as Update. (WriteBoltBatch uses bbolt's DB.Batch.)
func (b backend) Batch(ctx context.Context, fn func(store.KVTx) error) error {
	if b.db.writer != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		// (not after UpdateAhead: its writes may not be committed yet, and only the writer reads them)
		if store.AheadOf(ctx) == 0 {
			if wrote, err := b.readOnly(fn); !wrote {
				return err
			}
		}
		return b.db.writer.update(ctx, fn)
	}
	if b.db.opts.WritePath == WriteSolo {
		return b.Update(ctx, fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return mapErr(b.db.bolt.Batch(func(t *bolt.Tx) error { return fn(kvTx{t}) }))
}

// UpdateAhead implements store.AheadBackend: with group commit it returns as soon as fn has run in its group,
// before the group's commit; otherwise it is Update.
func (b backend) UpdateAhead(ctx context.Context, fn func(store.KVTx) error) (uint64, func() error, error) {
	if b.db.writer != nil {
		return b.db.writer.updateAhead(ctx, fn)
	}
	if err := b.Update(ctx, fn); err != nil {
		return 0, nil, err
	}
	return 0, func() error { return nil }, nil
}

func (b backend) Close() error {
	if b.db.writer != nil {
		b.db.writer.close()
	}
	return b.db.bolt.Close()
}

// GroupCommitStats returns the group-commit writer's counts (zero without group commit).
func (db *DB) GroupCommitStats() GroupCommitStats {
	if db.writer == nil {
		return GroupCommitStats{}
	}
	db.writer.statMu.Lock()
	defer db.writer.statMu.Unlock()
	return db.writer.stats
}

// errReadOnlyTx is a write in a read-only transaction (bbolt's, or a View's through the write-ahead log's layers).
var errReadOnlyTx = fmt.Errorf("%w: read-only transaction", store.ErrInvalid)

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen):
		return fmt.Errorf("%w: %v", store.ErrClosed, err)
	case errors.Is(err, bolterrors.ErrTxNotWritable), errors.Is(err, bolterrors.ErrDatabaseReadOnly):
		return errReadOnlyTx
	}
	return err
}

// readProbe is the KVTx of Batch's read-only attempt: its first write ends the attempt (a probeAbort panic that
// Batch recovers), so fn never runs on past a write it cannot make.
type readProbe struct {
	store.KVTx
	wrote bool
}

type probeAbort struct{}

func (p *readProbe) Put(string, []byte, []byte) error { p.wrote = true; panic(probeAbort{}) }
func (p *readProbe) Delete(string, []byte) error      { p.wrote = true; panic(probeAbort{}) }

// readOnly runs fn on a read-only snapshot; wrote tells that fn tried to write (its run was abandoned).
func (b backend) readOnly(fn func(store.KVTx) error) (wrote bool, err error) {
	p := readProbe{}
	defer func() {
		if p.wrote {
			if r := recover(); r != nil && r != (probeAbort{}) {
				panic(r)
			}
			wrote, err = true, nil
		}
	}()
	err = b.db.view(func(kv store.KVTx) error {
		p.KVTx = kv
		return fn(&p)
	})
	return p.wrote, err
}

type kvTx struct{ t *bolt.Tx }

func (k kvTx) Get(bucket string, key []byte) ([]byte, error) {
	b := k.t.Bucket([]byte(bucket))
	if b == nil {
		return nil, store.ErrNotFound
	}
	v := b.Get(key)
	if v == nil {
		return nil, store.ErrNotFound
	}
	return v, nil
}

func (k kvTx) Put(bucket string, key, value []byte) error {
	if !k.t.Writable() {
		return errReadOnlyTx
	}
	b, err := k.t.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	return b.Put(key, value)
}

func (k kvTx) Delete(bucket string, key []byte) error {
	if !k.t.Writable() {
		return errReadOnlyTx
	}
	b := k.t.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return b.Delete(key)
}

func (k kvTx) Scan(bucket string, prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	b := k.t.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	c := b.Cursor()
	seek := prefix
	if string(start) > string(seek) {
		seek = start
	}
	var key, val []byte
	if len(seek) == 0 {
		key, val = c.First()
	} else {
		key, val = c.Seek(seek)
	}
	for ; key != nil; key, val = c.Next() {
		if len(prefix) > 0 && (len(key) < len(prefix) || string(key[:len(prefix)]) != string(prefix)) {
			return nil
		}
		more, err := fn(key, val)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (k kvTx) Last(bucket string) ([]byte, []byte, error) {
	b := k.t.Bucket([]byte(bucket))
	if b == nil {
		return nil, nil, store.ErrNotFound
	}
	key, val := b.Cursor().Last()
	if key == nil {
		return nil, nil, store.ErrNotFound
	}
	return key, val, nil
}
