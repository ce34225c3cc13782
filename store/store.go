// Package store is trustsign's persistence layer: the storage records (profiles, officers, integrator clients,
// one-time codes, sessions, signing requests, webhook deliveries owed, maintenance windows, audit records, leases
// of periodic jobs), the sentinel errors every backend returns, and a typed transaction layer (DB, Tx) that keeps
// the bucket layout and the unique indexes in one place, on top of a small ordered key-value Backend.
//
// A backend (store/bbolt is the embedded default) only implements Backend and KVTx: byte-keyed buckets with
// serializable read-write transactions. Everything else, including index maintenance and compare-and-set rules, is
// written once here, so every backend behaves the same; store/storetest is the conformance suite that proves it.
//
// The audit chain is written here too. On bbolt a writing transaction extends it itself; a backend that several
// processes write at once (PostgreSQL, see AuditQueue) has the transaction queue its audit events instead, and a
// chainer moves them into the chain in batches moments later, so that writers do not all conflict on the chain's
// end (auditlog.go explains it; docs/operations.md has the numbers).
//
// The package is not a domain layer: it validates no PESEL, hashes no password and decides no status transition.
// Those rules live in the consumers (profile, the API), which declare the small interfaces they need. Storage
// records are not API types either: never serialise them to clients.
package store

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors. Backends and the typed layer wrap them with detail; test with errors.Is.
var (
	// ErrNotFound: no record with that key (or, for scoped reads, not one the caller may see).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique index is taken, a record already exists, or a compare-and-set found another state.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid: the record cannot be stored as given (missing key, end before start, immutable field changed).
	ErrInvalid = errors.New("store: invalid record")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrUnavailable: the database cannot be reached now (a networked backend lost its connection or the server
	// is restarting); the transaction did not run, or, when the connection was lost during its commit, may or may
	// not have committed. Trying again later is the answer.
	ErrUnavailable = errors.New("store: database unavailable")
	// ErrLocked: another process holds the database (bbolt allows one writer process).
	ErrLocked = errors.New("store: database is locked by another process")
	// ErrCorrupt: a stored value cannot be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
)

// ConflictError names what conflicted. errors.Is(err, ErrConflict) holds for it.
type ConflictError struct {
	// What is the index or field, e.g. "login", "pesel", "applicationNumber", "status".
	What string
	// Detail is optional extra text (never a secret or a personal number).
	Detail string
}

func (e *ConflictError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("store: conflict on %s: %s", e.What, e.Detail)
	}
	return "store: conflict on " + e.What
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

func conflict(what, detail string) error { return &ConflictError{What: what, Detail: detail} }

func notFound(what string) error { return fmt.Errorf("%w: %s", ErrNotFound, what) }

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Backend is an ordered key-value engine with serializable transactions. It is what a new backend implements.
//
// Contract (checked by storetest): Update and Batch are atomic (fn's error rolls every write back) and serializable
// (concurrent transactions behave as if run one after another); a committed Update is durable when it returns; View
// sees a consistent snapshot; fn may be called more than once (Batch re-runs it, SQL backends retry serialization
// failures), so fn must have no effects outside the transaction.
type Backend interface {
	View(ctx context.Context, fn func(KVTx) error) error
	Update(ctx context.Context, fn func(KVTx) error) error
	// Batch is Update that may be coalesced with concurrent calls into one commit (bbolt's group commit, which
	// also answers a Batch that writes nothing from a snapshot, without a commit). Backends without batching run
	// it as Update.
	Batch(ctx context.Context, fn func(KVTx) error) error
	Close() error
}

// KVTx is one transaction of a Backend. Byte slices returned by Get, Last and Scan are valid only until the
// transaction ends and must not be modified; the typed layer copies what it keeps. Buckets spring into existence on
// first Put; reading a missing bucket behaves as reading an empty one.
type KVTx interface {
	// Get returns the value of key, or ErrNotFound.
	Get(bucket string, key []byte) ([]byte, error)
	// Put stores value under key (read-write transactions only).
	Put(bucket string, key, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(bucket string, key []byte) error
	// Scan visits, in ascending key order, the keys that start with prefix and are >= start (start may be nil),
	// until fn returns false or an error.
	Scan(bucket string, prefix, start []byte, fn func(k, v []byte) (more bool, err error)) error
	// Last returns the greatest key and its value, or ErrNotFound for an empty bucket.
	Last(bucket string) (k, v []byte, err error)
}
