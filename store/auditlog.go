package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/trustsign/trustsign/audit"
)

// AuditLast returns the last audit record's seq and encoding (0, nil for an empty log). It satisfies audit.Log.
func (tx *Tx) AuditLast() (uint64, []byte, error) {
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
	return binary.BigEndian.Uint64(k), append([]byte(nil), v...), nil
}

// AuditPut stores an audit record; seq must be the last seq + 1 (ErrConflict otherwise).
func (tx *Tx) AuditPut(seq uint64, rec []byte) error {
	last, _, err := tx.AuditLast()
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

// Audit appends an audit event in this transaction.
func (tx *Tx) Audit(e audit.Event) error {
	_, err := audit.Append(tx, e)
	return err
}

func (tx *Tx) auditAll(events []audit.Event) error {
	for _, e := range events {
		if err := tx.Audit(e); err != nil {
			return err
		}
	}
	return nil
}

// UpdateAudit runs fn in a read-write transaction (audit.Updater, for the sealer).
func (db *DB) UpdateAudit(ctx context.Context, fn func(audit.HeadLog) error) error {
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
