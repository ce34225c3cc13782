package store

import (
	"context"

	"github.com/trustsign/trustsign/audit"
)

// AuditSnapshot is the audit log as one read transaction sees it: its records, its stored signed heads and its
// keyed end-of-log mark at one instant (audit.Source and audit.TipSource, with the store's chain key). DB's own
// ScanAudit, ScanAuditHeads and AuditTip each read in a transaction of their own, so a verification made of them
// while other processes append (several serve nodes on PostgreSQL) can read the log, then a mark moved on by a later
// append, and call the log cut.
type AuditSnapshot struct {
	tx *Tx
}

// ViewAudit calls fn with the audit log as one read transaction sees it. fn may be called more than once (the
// backend may retry a read transaction) and must not keep the snapshot after it returns.
func (db *DB) ViewAudit(ctx context.Context, fn func(AuditSnapshot) error) error {
	return db.View(ctx, func(tx *Tx) error { return fn(AuditSnapshot{tx: tx}) })
}

// ScanAudit visits the records from seq from on, in order (audit.Source).
func (s AuditSnapshot) ScanAudit(ctx context.Context, from uint64, fn func(seq uint64, rec []byte) error) error {
	return scanSeq(ctx, s.tx.kv, bAudit, from, fn)
}

// ScanAuditHeads visits the stored signed heads in order (audit.Source).
func (s AuditSnapshot) ScanAuditHeads(ctx context.Context, fn func(seq uint64, rec []byte) error) error {
	return scanSeq(ctx, s.tx.kv, bAuditHeads, 0, fn)
}

// AuditTip returns the end-of-log mark, or nil (audit.TipSource).
func (s AuditSnapshot) AuditTip(context.Context) (*audit.Tip, error) { return s.tx.AuditTip() }

// AuditChainKey returns the store's chain key (nil for an unkeyed chain).
func (s AuditSnapshot) AuditChainKey() *audit.ChainKey { return s.tx.chainKey }
