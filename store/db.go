package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trustsign/trustsign/audit"
)

// Bucket names: the whole layout of the store. Index buckets map a key to a record id; time indexes use an
// 8-byte big-endian Unix-nanosecond prefix so a Scan visits them in time order.
const (
	bProfiles        = "profiles"          // id → Profile
	bLoginIndex      = "idx_login"         // loginKey → "p:"+profileID | "o:"+officerID (holders and officers share logins)
	bPESELIndex      = "idx_pesel"         // keyed PESEL hash → profileID
	bAppNoIndex      = "idx_appno"         // application number → profileID
	bAppExpiryIndex  = "idx_app_expiry"    // be64(applicationExpires)+id → "" (pending only)
	bProfileExpiry   = "idx_profile_exp"   // be64(expires)+id → "" (active only)
	bOfficers        = "officers"          // id → Officer
	bClients         = "clients"           // id → Client
	bClientKeyIndex  = "idx_client_key"    // key hash → clientID
	bCodes           = "codes"             // profileID 0x00 purpose → Code
	bCodeCounters    = "code_counters"     // profileID → CodeCounters
	bSessions        = "sessions"          // token hash → Session
	bSessionSubject  = "idx_session_subj"  // subjectID 0x00 token hash → ""
	bLoginThrottle   = "login_throttle"    // loginKey → LoginThrottle
	bRateWindows     = "rate_windows"      // key → RateWindow
	bDecoyIndex      = "idx_decoy"         // "l"|"p" 0x00 loginKey|hex(PESEL hash) 0x00 id → "" (a decoy's taken keys)
	bPESELApplicants = "idx_pesel_pending" // hex(PESEL hash) 0x00 id → "" (pending non-decoy applications by PESEL)
	bSigReq          = "sigreq"            // id → SigningRequest (metadata)
	bSigReqDoc       = "sigreq_doc"        // id → document bytes
	bSigReqSigned    = "sigreq_signed"     // id → signed bytes
	bSigReqExpiry    = "idx_sigreq_exp"    // be64(expires)+id → ""
	bSigReqBatch     = "idx_sigreq_batch"  // clientID 0x00 batchID 0x00 id → ""
	bMaintenance     = "maintenance"       // be64(start)+id → MaintenanceWindow
	bMaintenanceByID = "idx_maintenance"   // id → be64(start)+id
	bAudit           = "audit"             // be64(seq) → encoded audit record
	bAuditHeads      = "audit_heads"       // be64(seq) → encoded signed head
	bAuditTip        = "audit_tip"         // "tip" → audit.Tip (JSON) of the last record, keyed
	bCounters        = "counter_windows"   // key → CounterWindow (fixed-window limits shared by API nodes)
	bCounterEnd      = "idx_counter_end"   // be64(end)+key → ""
	bReports         = "verify_reports"    // hex(SHA-256(link id)) → VerifyReport
	bReportExpiry    = "idx_report_exp"    // be64(expires)+hex(SHA-256(link id)) → ""
	bSettings        = "settings"          // name → value (deployment-wide settings, e.g. the profile secret's fingerprint)
	bAuditPending    = "audit_pending"     // be64(queued ns)+writer id+be64(n) → queued audit event (JSON), until chained
)

// AppendOrderedBuckets are the buckets whose new keys sort after the ones they hold, or near the end: audit
// sequence numbers, signing request ids that begin with their creation time, request expiries. Nothing lands in
// the middle of them, so a backend may fill their pages fuller (bbolt splits a page at half full by default).
var AppendOrderedBuckets = []string{bAudit, bAuditHeads, bSigReq, bSigReqDoc, bSigReqSigned, bSigReqExpiry}

// DB is the typed store over a Backend. Its methods open their own transactions; View, Update and Batch give
// callers a Tx to combine several changes (and an audit record) atomically.
type DB struct {
	kv       Backend
	chainKey *audit.ChainKey
	chainer  *auditChainer // nil: Tx.Audit extends the chain itself (see AuditQueue)
	decoded  decoded       // decoded records read often (decoded.go)
	auditEnd auditEnd      // the audit record appended last, with its hash (auditlog.go)
}

// New wraps a backend.
func New(kv Backend) *DB {
	db := &DB{kv: kv}
	if q, ok := kv.(AuditQueue); ok && q.QueueAudit() {
		db.chainer = newAuditChainer()
	}
	return db
}

// SetAuditChainKey keys the audit chain (audit.ChainKey) for every record appended from now on. Backends call it
// once, when they open the store, before the DB is shared.
func (db *DB) SetAuditChainKey(k *audit.ChainKey) { db.chainKey = k }

// AuditChainKey returns the audit chain key (nil for an unkeyed chain).
func (db *DB) AuditChainKey() *audit.ChainKey { return db.chainKey }

// Backend returns the underlying key-value backend.
func (db *DB) Backend() Backend { return db.kv }

// Close closes the backend, after chaining the audit events this DB queued (see AuditQueue).
func (db *DB) Close() error {
	db.stopAuditChainer()
	return db.kv.Close()
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(*Tx) error) error {
	return db.kv.View(ctx, func(kv KVTx) error { return fn(db.newTx(kv)) })
}

// Update runs fn in a read-write transaction: all of fn's writes commit together, or none when fn returns an
// error. fn may be called more than once and must not have effects outside the transaction.
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	var tx *Tx
	err := db.kv.Update(ctx, func(kv KVTx) error { tx = db.newTx(kv); return fn(tx) })
	db.committed(tx, err)
	return err
}

// Batch is Update that the backend may coalesce with concurrent calls into one commit (higher throughput,
// a few milliseconds more latency). fn may be called more than once.
func (db *DB) Batch(ctx context.Context, fn func(*Tx) error) error {
	var tx *Tx
	err := db.kv.Batch(ctx, func(kv KVTx) error { tx = db.newTx(kv); return fn(tx) })
	db.committed(tx, err)
	return err
}

// UpdateAhead is Update that returns as soon as fn has run, before its writes are durable, on a backend that
// commits its transactions in order through one writer (AheadBackend: bbolt's group commit); elsewhere it is
// Update. It is for a write that need not be durable before the caller's next write, only with it: the next write
// then rides in the same commit or a later one, instead of waiting for this one's commit first.
//
// Make the next writes with the returned context after: the backend does not commit a write made with it when
// fn's commit failed (it fails it with ErrUnavailable), so once such a later write is acknowledged, fn's writes are
// durable too. wait returns once fn's writes are durable (nil) or lost (the commit's error); call it before
// answering anyone on the strength of fn's writes alone. fn's own error is returned at once (nothing of fn was
// written), as is ctx's error when fn has not run.
func (db *DB) UpdateAhead(ctx context.Context, fn func(*Tx) error) (after context.Context, wait func() error, err error) {
	ab, ok := db.kv.(AheadBackend)
	if !ok || db.chainer != nil {
		if err := db.Update(ctx, fn); err != nil {
			return ctx, nil, err
		}
		return ctx, func() error { return nil }, nil
	}
	group, wait, err := ab.UpdateAhead(ctx, func(kv KVTx) error { return fn(db.newTx(kv)) })
	if err != nil || group == 0 {
		return ctx, wait, err
	}
	return context.WithValue(ctx, aheadKey{}, max(group, AheadOf(ctx))), wait, nil
}

// AheadBackend is a Backend whose read-write transactions are committed in order by one writer, in numbered
// groups. UpdateAhead runs fn like Update but returns fn's result as soon as fn has run, with the number of the
// group it ran in; wait returns after the group's commit. A transaction whose context carries a group number
// (AheadOf) must fail, without running, when that group's commit or a later one failed.
type AheadBackend interface {
	UpdateAhead(ctx context.Context, fn func(KVTx) error) (group uint64, wait func() error, err error)
}

type aheadKey struct{}

// AheadOf is the number of the group whose commit a write made with ctx depends on (0: none); see UpdateAhead.
func AheadOf(ctx context.Context) uint64 {
	g, _ := ctx.Value(aheadKey{}).(uint64)
	return g
}

// Tx is a typed transaction. Methods that write fail on a read-only transaction.
type Tx struct {
	kv       KVTx
	chainKey *audit.ChainKey
	db       *DB
	queued   uint32 // audit events queued in this transaction (see AuditQueue)
	queuedAt []byte // their keys' time prefix
}

func (db *DB) newTx(kv KVTx) *Tx { return &Tx{kv: kv, chainKey: db.chainKey, db: db} }

// KV exposes the raw key-value transaction (for backends' own tests and migrations).
func (tx *Tx) KV() KVTx { return tx.kv }

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func timeKey(t time.Time, id string) []byte {
	n := t.UnixNano()
	if n < 0 {
		n = 0
	}
	return append(be64(uint64(n)), id...)
}

func join(parts ...string) []byte {
	return []byte(joinStr(parts...))
}

func joinStr(parts ...string) string {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(p)
	}
	return b.String()
}

func (tx *Tx) getJSON(bucket string, key []byte, what string, v any) error {
	raw, err := tx.kv.Get(bucket, key)
	if errors.Is(err, ErrNotFound) {
		return notFound(what)
	}
	if err != nil {
		return err
	}
	if tx.db != nil && cachedBuckets[bucket] {
		err = tx.db.decoded.decode(bucket, key, raw, v)
	} else {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, what, err)
	}
	return nil
}

func (tx *Tx) putJSON(bucket string, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := tx.kv.Put(bucket, key, raw); err != nil {
		return err
	}
	if tx.db != nil && cachedBuckets[bucket] {
		tx.db.decoded.remember(bucket, key, raw, v)
	}
	return nil
}

func (tx *Tx) exists(bucket string, key []byte) (bool, error) {
	_, err := tx.kv.Get(bucket, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (tx *Tx) getString(bucket string, key []byte) (string, error) {
	v, err := tx.kv.Get(bucket, key)
	if err != nil {
		return "", err
	}
	return string(v), nil
}

// scanTime lists the ids of a time index whose time is at or before t (at most limit when limit > 0), oldest first.
func (tx *Tx) scanTime(bucket string, before time.Time, limit int) ([]string, error) {
	end := before.UnixNano()
	var ids []string
	err := tx.kv.Scan(bucket, nil, nil, func(k, _ []byte) (bool, error) {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) > end {
			return false, nil
		}
		if limit > 0 && len(ids) >= limit {
			return false, nil
		}
		ids = append(ids, string(k[8:]))
		return true, nil
	})
	return ids, err
}
