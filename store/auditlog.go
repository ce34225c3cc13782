package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trustsign/trustsign/audit"
)

// AuditLast returns the last audit record's seq and encoding (0, nil for an empty log). It satisfies audit.Log.
func (tx *Tx) AuditLast() (uint64, []byte, error) {
	seq, v, err := tx.auditLast()
	return seq, append([]byte(nil), v...), err
}

// auditLast is AuditLast without copying the record (valid only until the transaction writes or ends).
func (tx *Tx) auditLast() (uint64, []byte, error) {
	k, v, err := tx.kv.Last(bAudit)
	if errors.Is(err, ErrNotFound) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	if len(k) != 8 {
		return 0, nil, fmt.Errorf("%w: audit key", ErrCorrupt)
	}
	return binary.BigEndian.Uint64(k), v, nil
}

// AuditLastHash returns the last audit record's seq and hash (audit.HashLog): from the store's memory of the record
// it appended last when that is still the last record, byte for byte (auditEnd), otherwise from the record.
func (tx *Tx) AuditLastHash() (uint64, string, error) {
	seq, v, err := tx.auditLast()
	if err != nil {
		return 0, "", err
	}
	if v == nil {
		return 0, audit.GenesisHash, nil
	}
	if tx.db != nil {
		if h, ok := tx.db.auditEnd.hash(seq, v); ok {
			return seq, h, nil
		}
	}
	h, err := audit.RecordHash(v)
	return seq, h, err
}

// AuditPutHash is AuditPut for a record whose hash field is hash (audit.HashLog); rec must not change after.
func (tx *Tx) AuditPutHash(seq uint64, rec []byte, hash string) error {
	if err := tx.AuditPut(seq, rec); err != nil {
		return err
	}
	if tx.db != nil {
		tx.db.auditEnd.set(seq, rec, hash)
	}
	return nil
}

// auditEnd remembers the audit record appended last, with its hash, so that the next append need not decode it:
// used only while the log's last record is that one, byte for byte (a record appended by another node, or an
// append rolled back, leaves it unused).
type auditEnd struct {
	mu   sync.Mutex
	seq  uint64
	rec  []byte
	hsum string
}

func (e *auditEnd) hash(seq uint64, rec []byte) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rec == nil || e.seq != seq || !bytes.Equal(e.rec, rec) {
		return "", false
	}
	return e.hsum, true
}

func (e *auditEnd) set(seq uint64, rec []byte, hash string) {
	e.mu.Lock()
	e.seq, e.rec, e.hsum = seq, rec, hash
	e.mu.Unlock()
}

// AuditPut stores an audit record; seq must be the last seq + 1 (ErrConflict otherwise).
func (tx *Tx) AuditPut(seq uint64, rec []byte) error {
	last, _, err := tx.auditLast() // the seq only: the record is not copied
	if err != nil {
		return err
	}
	if seq != last+1 {
		return conflict("audit", fmt.Sprintf("seq %d after %d", seq, last))
	}
	if err := tx.kv.Put(bAudit, audit.SeqKey(seq), rec); err != nil {
		return err
	}
	if tx.chainKey != nil && tx.chainKey.Tipped {
		return tx.PutAuditTip(tx.chainKey.NewTip(seq, rec))
	}
	return nil
}

var kAuditTip = []byte("tip")

// PutAuditTip stores the log's keyed end-of-log mark (AuditPut keeps it; backends set the first one).
func (tx *Tx) PutAuditTip(t audit.Tip) error {
	raw, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return tx.kv.Put(bAuditTip, kAuditTip, raw)
}

// AuditTip returns the stored end-of-log mark, or nil.
func (tx *Tx) AuditTip() (*audit.Tip, error) {
	raw, err := tx.kv.Get(bAuditTip, kAuditTip)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var t audit.Tip
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("%w: audit tip", ErrCorrupt)
	}
	return &t, nil
}

// AuditTip returns the stored end-of-log mark, or nil (audit.TipSource).
func (db *DB) AuditTip(ctx context.Context) (*audit.Tip, error) {
	var t *audit.Tip
	err := db.View(ctx, func(tx *Tx) error {
		var err error
		t, err = tx.AuditTip()
		return err
	})
	return t, err
}

// AuditPutHead stores a copy of a signed head (a seal record) apart from the chain.
func (tx *Tx) AuditPutHead(seq uint64, rec []byte) error {
	return tx.kv.Put(bAuditHeads, audit.SeqKey(seq), rec)
}

// AuditChainKey returns the audit chain key (audit.KeyedLog): Append keys the records it writes with it.
func (tx *Tx) AuditChainKey() *audit.ChainKey { return tx.chainKey }

// Audit records an audit event in this transaction: it extends the chain, or, on a backend that queues audit
// events (AuditQueue), checks the event and queues it for the chainer. Either way the event commits or rolls back
// with the transaction.
func (tx *Tx) Audit(e audit.Event) error {
	if tx.db == nil || tx.db.chainer == nil {
		_, err := audit.Append(tx, e)
		return err
	}
	return tx.queueAudit(e)
}

func (tx *Tx) auditAll(events []audit.Event) error {
	for _, e := range events {
		if err := tx.Audit(e); err != nil {
			return err
		}
	}
	return nil
}

// UpdateAudit runs fn in a read-write transaction (audit.Updater, for the sealer). On a backend that queues audit
// events it chains the queued ones first, so that a seal covers every event committed before it.
func (db *DB) UpdateAudit(ctx context.Context, fn func(audit.HeadLog) error) error {
	if _, err := db.ChainAudit(ctx); err != nil && !errors.Is(err, errChainBusy) {
		return err // busy: another chainer is at work; seal what is chained
	}
	return db.Update(ctx, func(tx *Tx) error { return fn(tx) })
}

// ScanAudit visits audit records from seq from on, in order, in one read transaction (audit.Source).
func (db *DB) ScanAudit(ctx context.Context, from uint64, fn func(seq uint64, rec []byte) error) error {
	return db.View(ctx, func(tx *Tx) error { return scanSeq(ctx, tx.kv, bAudit, from, fn) })
}

// ScanAuditHeads visits the stored signed heads in order (audit.Source).
func (db *DB) ScanAuditHeads(ctx context.Context, fn func(seq uint64, rec []byte) error) error {
	return db.View(ctx, func(tx *Tx) error { return scanSeq(ctx, tx.kv, bAuditHeads, 0, fn) })
}

// AppendAudit appends one audit event in its own transaction.
func (db *DB) AppendAudit(ctx context.Context, e audit.Event) error {
	return db.Update(ctx, func(tx *Tx) error { return tx.Audit(e) })
}

func scanSeq(ctx context.Context, kv KVTx, bucket string, from uint64, fn func(uint64, []byte) error) error {
	n := 0
	return kv.Scan(bucket, nil, audit.SeqKey(from), func(k, v []byte) (bool, error) {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return false, ctx.Err()
		}
		if len(k) != 8 {
			return false, fmt.Errorf("%w: audit key", ErrCorrupt)
		}
		return true, fn(binary.BigEndian.Uint64(k), append([]byte(nil), v...))
	})
}

// ErrAuditTruncated: the audit log does not end where its keyed end-of-log mark (audit.Tip) says: records were
// cut off its end, or the store was put back from a copy older than the chain key.
var ErrAuditTruncated = errors.New("store: the audit log does not end where its keyed mark says")

// PrepareAuditTip checks the audit log's keyed end-of-log mark (audit.Tip) against the last record, or makes it
// for a key that keeps none yet, and then saves the key (which records from where the store keeps a mark) to
// keyPath. Every backend calls it when it opens a store with a chain key.
func (db *DB) PrepareAuditTip(ctx context.Context, key *audit.ChainKey, keyPath string) error {
	var (
		seq uint64
		rec []byte
		tip *audit.Tip
	)
	if err := db.View(ctx, func(tx *Tx) error {
		var err error
		if seq, rec, err = tx.AuditLast(); err != nil {
			return err
		}
		tip, err = tx.AuditTip()
		return err
	}); err != nil {
		return err
	}
	if key.Tipped && (tip != nil || key.TipRequired(seq)) {
		switch {
		case tip == nil:
			return fmt.Errorf("%w: the mark is gone (last record %d); run 'trustsign audit verify' and restore the store from a backup", ErrAuditTruncated, seq)
		case !key.Matches(*tip, seq, rec):
			return fmt.Errorf("%w: it says record %d, the log ends at %d; run 'trustsign audit verify' and restore the store from a backup", ErrAuditTruncated, tip.Seq, seq)
		}
		return nil
	}
	if err := db.Update(ctx, func(tx *Tx) error { return tx.PutAuditTip(key.NewTip(seq, rec)) }); err != nil {
		return err
	}
	if !key.Tipped {
		// from here on the store keeps a tip; a log ending at or before seq without one is a copy from before
		key.Tipped, key.TipFrom = true, seq
	}
	if err := key.Save(keyPath); err != nil {
		return fmt.Errorf("store: writing the audit chain key: %w", err)
	}
	return nil
}

// Audit chain with several writers.
//
// A hash chain has one end, so a transaction that extends it conflicts with every other one that does. On bbolt
// (one writer process, transactions one at a time) that costs nothing and Tx.Audit extends the chain in the
// writing transaction. On PostgreSQL every writing transaction would read and replace the chain's last record and
// tip, so concurrent writers fail each other's serialization and retry: appends fall below what one commit at a
// time allows (see docs/operations.md, "Audit chain with several nodes"). There the backend says AuditQueue, and:
//
//   - Tx.Audit checks the event (audit.Event.Check) and queues it in bucket audit_pending, under a key of its own
//     (be64(queued ns) + 8 random bytes naming the DB + be64(counter)): the event is durable with its transaction,
//     and writers touch no common key.
//   - a chainer moves queued events, in key order, into the chain, one batch per transaction (chain records, the
//     keyed tip and the deletion of the queued events commit together). A DB runs it in the background after each of
//     its commits that queued events, every auditCatchUp after that (events a stopped node left), before every seal
//     (UpdateAudit) and when it is closed. The backend's AuditChainLocker keeps one chainer at a time; the chain's
//     serializable transactions keep the chain whole even without it.
//   - verification and export cover the chain; AuditPending reports the queued events (audit.PendingSource).

// AuditQueue is an optional extension of Backend: a backend that several processes write at once returns true,
// and Tx.Audit then queues events for the chainer instead of extending the chain in the writing transaction.
type AuditQueue interface {
	QueueAudit() bool
}

// AuditChainLocker is an optional extension of KVTx: TryLockAuditChain takes the lock that keeps one audit chainer
// at a time, until the transaction ends, without waiting; false when another transaction holds it. It must be the
// first statement of the transaction.
type AuditChainLocker interface {
	TryLockAuditChain() (bool, error)
}

// BulkDeleter is an optional extension of KVTx: DeleteMany deletes several keys of one bucket at once.
type BulkDeleter interface {
	DeleteMany(bucket string, keys [][]byte) error
}

const (
	// auditChainBatch is the most queued events one chaining transaction moves.
	auditChainBatch = 500
	// auditCatchUp is how often a running chainer looks for queued events nobody chained.
	auditCatchUp = time.Second
	// auditLinger is how long the chainer waits after a commit woke it, to chain the commits that follow with it.
	auditLinger = 5 * time.Millisecond
	// auditCloseDrain bounds the chaining Close does.
	auditCloseDrain = 10 * time.Second
	// auditBusyWait is how long ChainAudit waits in a row for another chainer (one cut off from the database holds
	// its lock until the server notices).
	auditBusyWait = 5 * time.Second
)

// queuedEvent is an audit.Event as queued.
type queuedEvent struct {
	Time    time.Time         `json:"time"`
	Kind    string            `json:"kind"`
	Actor   string            `json:"actor"`
	Subject string            `json:"subject"`
	Details map[string]string `json:"details,omitempty"`
}

func (tx *Tx) queueAudit(e audit.Event) error {
	if err := e.Check(); err != nil {
		return err
	}
	if tx.queuedAt == nil {
		tx.queuedAt = be64(uint64(time.Now().UnixNano()))
	}
	c := tx.db.chainer
	key := make([]byte, 0, 24)
	key = append(append(append(key, tx.queuedAt...), c.writer[:]...), be64(c.next.Add(1))...)
	raw, err := json.Marshal(queuedEvent{Time: e.Time, Kind: e.Kind, Actor: e.Actor, Subject: e.Subject, Details: e.Details})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := tx.kv.Put(bAuditPending, key, raw); err != nil {
		return err
	}
	tx.queued++
	return nil
}

// auditChainer is a DB's background chainer.
type auditChainer struct {
	writer [8]byte // random: names this DB in the keys it queues
	next   atomic.Uint64

	start   sync.Once
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	started atomic.Bool
	stopped sync.Once
	onErr   atomic.Pointer[func(error)]
}

func newAuditChainer() *auditChainer {
	c := &auditChainer{kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if _, err := rand.Read(c.writer[:]); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return c
}

// committed runs after a read-write transaction: one that queued audit events wakes the chainer.
func (db *DB) committed(tx *Tx, err error) {
	if err != nil || tx == nil || tx.queued == 0 || db.chainer == nil {
		return
	}
	c := db.chainer
	c.start.Do(func() {
		c.started.Store(true)
		go db.runAuditChainer()
	})
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// SetAuditChainErrorFunc sets where the background chainer reports its errors (nil: nowhere). They are retried at
// the next commit or catch-up; an error that persists leaves events queued, which audit verification reports.
func (db *DB) SetAuditChainErrorFunc(fn func(error)) {
	if db.chainer != nil {
		db.chainer.onErr.Store(&fn)
	}
}

func (db *DB) runAuditChainer() {
	c := db.chainer
	defer close(c.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(auditCatchUp)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
			// linger: the commits of the next moments join this batch instead of each costing a transaction
			select {
			case <-c.stop:
				return
			case <-time.After(auditLinger):
			}
		case <-t.C:
		}
		if _, err := db.ChainAudit(ctx); err != nil && ctx.Err() == nil {
			if fn := c.onErr.Load(); fn != nil && *fn != nil {
				(*fn)(err)
			}
		}
	}
}

// stopAuditChainer stops the background chainer and chains what is queued (within auditCloseDrain), so that a
// command that wrote and exits leaves nothing for the next node to chain.
func (db *DB) stopAuditChainer() {
	c := db.chainer
	if c == nil {
		return
	}
	c.stopped.Do(func() {
		close(c.stop)
		if !c.started.Load() {
			return
		}
		<-c.done
		ctx, cancel := context.WithTimeout(context.Background(), auditCloseDrain)
		defer cancel()
		_, _ = db.ChainAudit(ctx) // best effort: what is left stays queued, durable, for the next chainer
	})
}

// errChainBusy: another transaction holds the chainer lock.
var errChainBusy = errors.New("store: another audit chainer is running")

// ChainAudit moves the queued audit events into the chain, a batch per transaction, until none is left, and
// returns how many it chained. While another chainer holds the lock it waits and tries again, until no event
// queued before the call is left (the other chainer chained them), for at most auditBusyWait in a row. On a store
// that queues nothing (bbolt) it does nothing.
func (db *DB) ChainAudit(ctx context.Context) (int, error) {
	if db.chainer == nil {
		return 0, nil
	}
	start := time.Now()
	total, wait := 0, time.Millisecond
	var busySince time.Time
	for {
		n, err := db.chainBatch(ctx)
		total += n
		switch {
		case errors.Is(err, errChainBusy):
			if oldest, err := db.oldestQueued(ctx); err != nil {
				return total, err
			} else if oldest.IsZero() || !oldest.Before(start) {
				return total, nil
			}
			if busySince.IsZero() {
				busySince = time.Now()
			} else if time.Since(busySince) > auditBusyWait {
				return total, err
			}
			select {
			case <-ctx.Done():
				return total, ctx.Err()
			case <-time.After(wait/2 + mathrand.N(wait)):
			}
			wait = min(2*wait, 50*time.Millisecond)
			continue
		case err != nil:
			return total, err
		case n < auditChainBatch:
			return total, nil
		}
		// a full batch: more may be queued, but what was queued after the call is a later call's business (a
		// chainer that keeps up with busy writers would otherwise never return)
		if oldest, err := db.oldestQueued(ctx); err != nil || oldest.IsZero() || !oldest.Before(start) {
			return total, err
		}
		wait, busySince = time.Millisecond, time.Time{}
	}
}

// chainBatch chains up to auditChainBatch queued events in one transaction.
func (db *DB) chainBatch(ctx context.Context) (int, error) {
	var n int
	err := db.kv.Update(ctx, func(kv KVTx) error {
		n = 0
		if l, ok := kv.(AuditChainLocker); ok {
			got, err := l.TryLockAuditChain()
			if err != nil {
				return err
			}
			if !got {
				return errChainBusy
			}
		}
		var err error
		n, err = db.newTx(kv).chainQueued(auditChainBatch)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// chainLog is the audit.Log of one chaining batch: the chain's end in memory, the new records collected.
type chainLog struct {
	key        *audit.ChainKey
	seq        uint64
	raw        []byte
	hash       string // raw's hash field, once read or appended ("": not yet)
	keys, recs [][]byte
}

func (l *chainLog) AuditLast() (uint64, []byte, error) { return l.seq, l.raw, nil }

// AuditLastHash is audit.HashLog's: the hash of the batch's last record, decoded once for the chain's end.
func (l *chainLog) AuditLastHash() (uint64, string, error) {
	if l.hash == "" {
		if l.raw == nil {
			return 0, audit.GenesisHash, nil
		}
		h, err := audit.RecordHash(l.raw)
		if err != nil {
			return 0, "", err
		}
		l.hash = h
	}
	return l.seq, l.hash, nil
}

func (l *chainLog) AuditPutHash(seq uint64, rec []byte, hash string) error {
	if err := l.AuditPut(seq, rec); err != nil {
		return err
	}
	l.hash = hash
	return nil
}

func (l *chainLog) AuditPut(seq uint64, rec []byte) error {
	if seq != l.seq+1 {
		return conflict("audit", fmt.Sprintf("seq %d after %d", seq, l.seq))
	}
	l.seq, l.raw, l.hash = seq, rec, ""
	l.keys, l.recs = append(l.keys, audit.SeqKey(seq)), append(l.recs, rec)
	return nil
}

func (l *chainLog) AuditChainKey() *audit.ChainKey { return l.key }

// chainQueued appends up to max queued events to the chain in queue order, deletes them from the queue and moves
// the keyed tip, and returns how many it chained. A queued value that cannot be read or checked is chained as an
// event of kind audit.queued.unreadable naming its key, so one bad entry neither stops the chain nor vanishes.
func (tx *Tx) chainQueued(max int) (int, error) {
	type entry struct {
		key []byte
		ev  audit.Event
	}
	var queued []entry
	err := tx.kv.Scan(bAuditPending, nil, nil, func(k, v []byte) (bool, error) {
		e := entry{key: bytes.Clone(k)}
		var q queuedEvent
		if err := json.Unmarshal(v, &q); err == nil {
			e.ev = audit.Event{Time: q.Time, Kind: q.Kind, Actor: q.Actor, Subject: q.Subject, Details: q.Details}
		}
		if len(k) != 24 || e.ev.Check() != nil {
			e.ev = audit.Event{Time: queuedTime(k), Kind: "audit.queued.unreadable", Actor: "system", Subject: "audit",
				Details: map[string]string{"key": hex.EncodeToString(k)}}
		}
		queued = append(queued, e)
		return len(queued) < max, nil
	})
	if err != nil || len(queued) == 0 {
		return 0, err
	}
	seq, raw, err := tx.AuditLast()
	if err != nil {
		return 0, err
	}
	l := &chainLog{key: tx.chainKey, seq: seq, raw: raw}
	done := make([][]byte, len(queued))
	for i, e := range queued {
		if _, err := audit.Append(l, e.ev); err != nil {
			return 0, err
		}
		done[i] = e.key
	}
	if err := putMany(tx.kv, bAudit, l.keys, l.recs); err != nil {
		return 0, err
	}
	if bd, ok := tx.kv.(BulkDeleter); ok {
		err = bd.DeleteMany(bAuditPending, done)
	} else {
		for _, k := range done {
			if err = tx.kv.Delete(bAuditPending, k); err != nil {
				break
			}
		}
	}
	if err != nil {
		return 0, err
	}
	if tx.chainKey != nil && tx.chainKey.Tipped {
		if err := tx.PutAuditTip(tx.chainKey.NewTip(l.seq, l.raw)); err != nil {
			return 0, err
		}
	}
	return len(queued), nil
}

func putMany(kv KVTx, bucket string, keys, values [][]byte) error {
	if bp, ok := kv.(BulkPutter); ok {
		return bp.PutMany(bucket, keys, values)
	}
	for i := range keys {
		if err := kv.Put(bucket, keys[i], values[i]); err != nil {
			return err
		}
	}
	return nil
}

// oldestQueued returns when the oldest queued audit event was queued (zero when none is).
func (db *DB) oldestQueued(ctx context.Context) (time.Time, error) {
	var at time.Time
	err := db.kv.View(ctx, func(kv KVTx) error {
		return kv.Scan(bAuditPending, nil, nil, func(k, _ []byte) (bool, error) {
			at = queuedTime(k)
			return false, nil
		})
	})
	return at, err
}

// queuedTime is the time in a queued event's key.
func queuedTime(k []byte) time.Time {
	if len(k) < 8 {
		return time.Unix(0, 0)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
}

// AuditPending returns how many audit events are queued and not chained yet, and when the oldest was queued
// (audit.PendingSource). A store that chains in the writing transaction has none.
func (db *DB) AuditPending(ctx context.Context) (uint64, time.Time, error) {
	var (
		n      uint64
		oldest time.Time
	)
	err := db.View(ctx, func(tx *Tx) error {
		return tx.kv.Scan(bAuditPending, nil, nil, func(k, _ []byte) (bool, error) {
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return false, ctx.Err()
			}
			if n == 1 {
				oldest = queuedTime(k).UTC()
			}
			return true, nil
		})
	})
	return n, oldest, err
}
