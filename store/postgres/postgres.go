// Package postgres is trustsign's PostgreSQL store backend, for deployments that run several `trustsign serve` nodes
// on one database. It implements store.Backend over one table, kv(bucket, key, value), so the typed layer of package
// store (indexes, compare-and-set, the audit chain) is written once and behaves as on bbolt; store/storetest proves it.
//
// Transactions are SERIALIZABLE and retried (with bounded, jittered backoff) on serialization failures (SQLSTATE
// 40001) and deadlocks (40P01), and on a connection that failed before COMMIT was sent; the store.Backend contract
// already says fn may run more than once. When the server stays unreachable the error matches store.ErrUnavailable
// (the API answers 503). View runs READ ONLY. Schema migrations are embedded and applied by Open under an advisory
// lock, so nodes starting together migrate once. Retries counts the attempts run again (contention).
//
// Writing transactions queue their audit events (store.AuditQueue) rather than extend the audit chain, which would
// make every writer conflict on the chain's end; the chainer that appends them holds a transaction-level advisory
// lock (TryLockAuditChain), one chainer at a time across the nodes.
//
// It is not a general SQL mapping: records stay JSON values under byte keys, exactly as on bbolt.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trustsign/trustsign/store"
)

// Options configures Open.
type Options struct {
	// ChainKeyFile is the audit chain key file (audit.ChainKeyFileName in the data directory). Every node of one
	// database needs the same file: Open makes it for a new store and refuses a store keyed with another key or
	// keyed without it (ErrChainKeyMissing). Required unless NoChainKey.
	ChainKeyFile string
	// NoChainKey leaves the audit chain unkeyed (tests of the backend alone).
	NoChainKey bool
	// AdoptChainKey makes ChainKeyFile the key of a database that holds audit records but names no key yet: one
	// filled by copying a bbolt store (its audit log is keyed with that store's key file). Without it Open refuses
	// such a database (ErrChainKeyMissing) rather than guess.
	AdoptChainKey bool
	// Schema, if set, is the PostgreSQL schema the tables live in (created if missing; set as search_path).
	Schema string
	// MaxConns is the pool size (default: pgxpool's, max(4, CPUs), or pool_max_conns in the URL).
	MaxConns int32
	// MaxAttempts bounds how often a transaction is run when it keeps failing with a serialization failure or a
	// deadlock (default 40).
	MaxAttempts int
}

// DB is an open PostgreSQL store. Its embedded *store.DB gives the typed API.
type DB struct {
	*store.DB
	pool   *pgxpool.Pool
	opts   Options
	closed atomic.Bool
	schema int
	// retries counts the attempts run again after a serialization failure, a deadlock or a lost connection.
	retries atomic.Uint64
}

// Open connects to the database at url (postgres://… or a key=value DSN), applies the embedded migrations and
// keys the audit chain (see Options.ChainKeyFile).
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if opts.ChainKeyFile == "" && !opts.NoChainKey {
		return nil, errors.New("postgres: Options.ChainKeyFile is required (the audit chain key file in the data directory)")
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 40
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parsing the URL: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if cfg.MaxConns < 2 {
		cfg.MaxConns = 2 // Open holds the migration lock on one connection while it reads the audit log on another
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{pool: pool, opts: opts}
	db.DB = store.New(backend{db})
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if !opts.NoChainKey {
		if err := db.prepareChainKey(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return db, nil
}

// Pool exposes the connection pool (for readiness checks, stats and tests).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Retries returns how many transaction attempts this DB has run again so far (after a serialization failure, a
// deadlock or a connection lost before COMMIT): a measure of contention, for tests and metrics.
func (db *DB) Retries() uint64 { return db.retries.Load() }

// Schema returns the database's schema version after Open.
func (db *DB) Schema() int { return db.schema }

// Ping checks that the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error {
	if db.closed.Load() {
		return store.ErrClosed
	}
	return db.pool.Ping(ctx)
}

// backend adapts DB to store.Backend (the names View/Update are taken on DB by the typed layer).
type backend struct{ db *DB }

func (b backend) View(ctx context.Context, fn func(store.KVTx) error) error {
	return b.db.run(ctx, true, fn)
}

func (b backend) Update(ctx context.Context, fn func(store.KVTx) error) error {
	return b.db.run(ctx, false, fn)
}

// Batch is Update: PostgreSQL commits concurrent transactions in parallel, so there is nothing to coalesce.
func (b backend) Batch(ctx context.Context, fn func(store.KVTx) error) error {
	return b.db.run(ctx, false, fn)
}

// QueueAudit makes Tx.Audit queue events for the chainer (store.AuditQueue): on a database several nodes write,
// extending the chain in every writing transaction would make them all conflict on its end.
func (b backend) QueueAudit() bool { return true }

func (b backend) Close() error {
	if b.db.closed.Swap(true) {
		return nil
	}
	b.db.pool.Close()
	return nil
}

// serializationFailure reports a failure after which the server rolled the transaction back and running it again
// may succeed: a serialization failure (40001) or a deadlock (40P01).
func serializationFailure(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// connectionFailure reports a lost or refused connection: a network error pgconn says reached nothing
// (SafeToRetry), a server shutting down or starting (57P01-57P03), a connection exception (class 08).
func connectionFailure(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return pgconn.SafeToRetry(err)
}

// unreachable reports an error that says the server could not be reached or the connection was lost, before or
// during a statement or the commit (store.ErrUnavailable): connectionFailure's, a failed connect, any network error
// or a connection cut mid-message.
func unreachable(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	return connectionFailure(err) || errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// run runs fn in a transaction, again (after a short random wait) while an attempt fails in a way that a new
// attempt may not (see runOnce), at most MaxAttempts times.
func (db *DB) run(ctx context.Context, readOnly bool, fn func(store.KVTx) error) error {
	backoff := time.Millisecond
	for attempt := 1; ; attempt++ {
		if db.closed.Load() {
			return store.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		again, err := db.runOnce(ctx, readOnly, fn)
		if err == nil || !again || attempt >= db.opts.MaxAttempts {
			switch {
			case err != nil && db.closed.Load():
				return fmt.Errorf("%w: %v", store.ErrClosed, err)
			case err != nil && ctx.Err() == nil && unreachable(err):
				return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
			}
			return err
		}
		db.retries.Add(1)
		wait := backoff/2 + rand.N(backoff)
		if backoff < 64*time.Millisecond {
			backoff *= 2
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// runOnce runs one attempt. again says that the attempt certainly did not commit and a new one may succeed: a
// serialization failure or deadlock anywhere (the server rolled back), or a lost connection before COMMIT was
// sent (nothing commits without it). A connection lost during COMMIT is not retried: the commit may have happened,
// and running fn again could apply it twice; the caller gets the error.
func (db *DB) runOnce(ctx context.Context, readOnly bool, fn func(store.KVTx) error) (again bool, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return ctx.Err() == nil && unreachable(err), fmt.Errorf("postgres: begin: %w", err)
	}
	// a connection left in a transaction (or busy, or closed) is destroyed by Release, not pooled
	defer conn.Release()
	kt := &kvTx{ctx: ctx, conn: conn, readOnly: readOnly}
	rollback := func() {
		if !conn.Conn().IsClosed() && conn.Conn().PgConn().TxStatus() != 'I' {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}
	beforeCommit := func(failed error) bool {
		// nothing commits without COMMIT: a failure before it (BEGIN's too, which goes with the first statement)
		// leaves nothing behind, and a new attempt on a new connection is safe
		return ctx.Err() == nil && (serializationFailure(failed) || connectionFailure(failed) || conn.Conn().IsClosed())
	}
	if err := fn(kt); err != nil {
		rollback()
		if kt.failed != nil && beforeCommit(kt.failed) {
			// the database failed the transaction, whatever fn made of the error: run it again, or report the
			// database's error if that was the last attempt
			if errors.Is(err, kt.failed) {
				return true, err
			}
			return true, kt.failed
		}
		return false, err
	}
	if kt.failed != nil {
		// fn ignored a failed statement: the transaction is aborted and must not pass as committed
		rollback()
		return beforeCommit(kt.failed), kt.failed
	}
	if !kt.begun {
		return false, nil // no statement ran: nothing to commit
	}
	tag, err := conn.Exec(ctx, "COMMIT")
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback // the server had failed the transaction
	}
	if err != nil {
		rollback()
		return serializationFailure(err), fmt.Errorf("postgres: commit: %w", err)
	}
	return false, nil
}

// kvTx is one transaction at the serializable level, begun lazily: its BEGIN goes to the server with its first
// statement, in one round trip (a pipeline of the two), and a transaction that runs no statement costs none. A
// signing flow runs some sixteen transactions, eleven of them reads of one or two statements: BEGIN sent on its
// own was a fifth of the flow's round trips to the server. failed keeps the first database error: after it
// PostgreSQL refuses every statement until rollback, so the transaction cannot commit whatever fn does with it.
type kvTx struct {
	ctx      context.Context
	conn     *pgxpool.Conn
	readOnly bool
	begun    bool // BEGIN was sent and succeeded
	failed   error
}

func (k *kvTx) beginSQL() string {
	if k.readOnly {
		return "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"
	}
	return "BEGIN ISOLATION LEVEL SERIALIZABLE"
}

// pipeline sends BEGIN and sql in one round trip, and has read take sql's result.
func (k *kvTx) pipeline(read func(pgx.BatchResults) error, sql string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(k.beginSQL())
	b.Queue(sql, args...)
	br := k.conn.SendBatch(k.ctx, b)
	_, err := br.Exec()
	if err == nil {
		k.begun = true
		err = read(br)
	}
	// a failure after the rows (the connection lost before the server said it was ready) outweighs "no rows"
	if cerr := br.Close(); cerr != nil && (err == nil || errors.Is(err, pgx.ErrNoRows)) {
		err = cerr
	}
	return err
}

// exec runs a statement that returns no rows, beginning the transaction with it if need be.
func (k *kvTx) exec(sql string, args ...any) error {
	if k.begun {
		_, err := k.conn.Exec(k.ctx, sql, args...)
		return err
	}
	return k.pipeline(func(br pgx.BatchResults) error { _, err := br.Exec(); return err }, sql, args...)
}

// queryRow scans the one row of a query into dest (pgx.ErrNoRows when there is none), beginning the transaction
// with it if need be.
func (k *kvTx) queryRow(dest []any, sql string, args ...any) error {
	if k.begun {
		return k.conn.QueryRow(k.ctx, sql, args...).Scan(dest...)
	}
	return k.pipeline(func(br pgx.BatchResults) error { return br.QueryRow().Scan(dest...) }, sql, args...)
}

// query runs a query of several rows, after BEGIN on its own if the transaction has not begun.
func (k *kvTx) query(sql string, args ...any) (pgx.Rows, error) {
	if !k.begun {
		if _, err := k.conn.Exec(k.ctx, k.beginSQL()); err != nil {
			return nil, err
		}
		k.begun = true
	}
	return k.conn.Query(k.ctx, sql, args...)
}

func (k *kvTx) fail(err error) error {
	if k.failed == nil {
		k.failed = err
	}
	return err
}

var errReadOnly = fmt.Errorf("%w: read-only transaction", store.ErrInvalid)

func (k *kvTx) Get(bucket string, key []byte) ([]byte, error) {
	var v []byte
	err := k.queryRow([]any{&v}, `SELECT value FROM kv WHERE bucket = $1 AND key = $2`, bucket, key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, k.fail(fmt.Errorf("postgres: get: %w", err))
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (k *kvTx) Put(bucket string, key, value []byte) error {
	if k.readOnly {
		return errReadOnly
	}
	if len(key) == 0 {
		return fmt.Errorf("%w: empty key", store.ErrInvalid)
	}
	if value == nil {
		value = []byte{}
	}
	err := k.exec(`INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value`, bucket, key, value)
	if err != nil {
		return k.fail(fmt.Errorf("postgres: put: %w", err))
	}
	return nil
}

// PutMany stores several keys of one bucket in one statement (store.BulkPutter, used by store.Copy).
func (k *kvTx) PutMany(bucket string, keys, values [][]byte) error {
	if k.readOnly {
		return errReadOnly
	}
	if len(keys) != len(values) {
		return fmt.Errorf("%w: %d keys, %d values", store.ErrInvalid, len(keys), len(values))
	}
	vs := make([][]byte, len(values))
	for i := range keys {
		if len(keys[i]) == 0 {
			return fmt.Errorf("%w: empty key", store.ErrInvalid)
		}
		if vs[i] = values[i]; vs[i] == nil {
			vs[i] = []byte{}
		}
	}
	err := k.exec(`INSERT INTO kv (bucket, key, value) SELECT $1, t.k, t.v FROM unnest($2::bytea[], $3::bytea[]) AS t(k, v)
		ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value`, bucket, keys, vs)
	if err != nil {
		return k.fail(fmt.Errorf("postgres: put: %w", err))
	}
	return nil
}

// auditChainLock is the pg_advisory_xact_lock key of the audit chainer ("trustcha" in ASCII, as a number).
const auditChainLock int64 = 0x7472757374636861

// TryLockAuditChain takes the audit chainer's transaction-level advisory lock without waiting
// (store.AuditChainLocker). Without waiting, the transaction's snapshot, taken by this first statement, is not
// older than the lock: a chainer that waited would read a chain end that the previous holder has since moved, and
// fail serialization.
func (k *kvTx) TryLockAuditChain() (bool, error) {
	var got bool
	if err := k.queryRow([]any{&got}, `SELECT pg_try_advisory_xact_lock($1)`, auditChainLock); err != nil {
		return false, k.fail(fmt.Errorf("postgres: audit chain lock: %w", err))
	}
	return got, nil
}

// DeleteMany deletes several keys of one bucket in one statement (store.BulkDeleter, used by the audit chainer).
func (k *kvTx) DeleteMany(bucket string, keys [][]byte) error {
	if k.readOnly {
		return errReadOnly
	}
	if err := k.exec(`DELETE FROM kv WHERE bucket = $1 AND key = ANY($2::bytea[])`, bucket, keys); err != nil {
		return k.fail(fmt.Errorf("postgres: delete: %w", err))
	}
	return nil
}

func (k *kvTx) Delete(bucket string, key []byte) error {
	if k.readOnly {
		return errReadOnly
	}
	if err := k.exec(`DELETE FROM kv WHERE bucket = $1 AND key = $2`, bucket, key); err != nil {
		return k.fail(fmt.Errorf("postgres: delete: %w", err))
	}
	return nil
}

// scanPage is how many rows Scan reads per query. Scan reads a page, closes it, then calls fn, so fn may use the
// transaction (one connection runs one query at a time).
const scanPage = 256

func (k *kvTx) Scan(bucket string, prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	lo := prefix
	if string(start) > string(lo) {
		lo = start
	}
	if lo == nil {
		lo = []byte{}
	}
	hi := prefixEnd(prefix) // nil: no upper bound
	inclusive := true
	for {
		type row struct{ k, v []byte }
		op := ">"
		if inclusive {
			op = ">="
		}
		rows, err := k.query(`SELECT key, value FROM kv WHERE bucket = $1 AND key `+op+` $2
			AND ($3::bytea IS NULL OR key < $3) ORDER BY key LIMIT `+fmt.Sprint(scanPage), bucket, lo, hi)
		if err != nil {
			return k.fail(fmt.Errorf("postgres: scan: %w", err))
		}
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.k, &x.v)
			return x, err
		})
		if err != nil {
			return k.fail(fmt.Errorf("postgres: scan: %w", err))
		}
		for _, r := range page {
			if r.v == nil {
				r.v = []byte{}
			}
			more, err := fn(r.k, r.v)
			if err != nil || !more {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		lo, inclusive = page[len(page)-1].k, false
	}
}

// prefixEnd returns the least key greater than every key starting with prefix, or nil when there is none (an
// empty prefix, or one of only 0xFF bytes).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func (k *kvTx) Last(bucket string) ([]byte, []byte, error) {
	var key, v []byte
	err := k.queryRow([]any{&key, &v}, `SELECT key, value FROM kv WHERE bucket = $1 ORDER BY key DESC LIMIT 1`, bucket)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, store.ErrNotFound
	}
	if err != nil {
		return nil, nil, k.fail(fmt.Errorf("postgres: last: %w", err))
	}
	if v == nil {
		v = []byte{}
	}
	return key, v, nil
}
