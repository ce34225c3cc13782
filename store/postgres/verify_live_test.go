package postgres_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/postgres"
)

// appendAfterScan is an audit source that appends one record (in a transaction of its own, as another node would)
// once its log was scanned, before the verifier reads the end-of-log mark.
type appendAfterScan struct {
	src interface {
		audit.Source
		audit.TipSource
		AuditChainKey() *audit.ChainKey
	}
	db *postgres.DB
}

func (a appendAfterScan) ScanAudit(ctx context.Context, from uint64, fn func(uint64, []byte) error) error {
	if err := a.src.ScanAudit(ctx, from, fn); err != nil {
		return err
	}
	if err := a.db.AppendAudit(ctx, audit.Event{Time: time.Now(), Kind: "test.concurrent", Actor: "other-node"}); err != nil {
		return err
	}
	_, err := a.db.ChainAudit(ctx) // the other node's chainer, done
	return err
}

func (a appendAfterScan) ScanAuditHeads(ctx context.Context, fn func(uint64, []byte) error) error {
	return a.src.ScanAuditHeads(ctx, fn)
}

func (a appendAfterScan) AuditTip(ctx context.Context) (*audit.Tip, error) {
	return a.src.AuditTip(ctx)
}
func (a appendAfterScan) AuditChainKey() *audit.ChainKey { return a.src.AuditChainKey() }

// TestVerifyWhileAnotherNodeAppends: `audit verify --store` runs while the nodes write. Read in separate
// transactions, a record appended between the scan of the log and the read of its keyed end-of-log mark makes an
// intact log look cut ("records were cut off its end"); read through store.DB.ViewAudit, one snapshot, it verifies.
func TestVerifyWhileAnotherNodeAppends(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	db := openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName)})
	defer db.Close()
	ctx := context.Background()
	for range 3 {
		if err := db.AppendAudit(ctx, audit.Event{Time: time.Now(), Kind: "test.record", Actor: "node-a"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ChainAudit(ctx); err != nil { // queued events are chained in the background: chain them now
		t.Fatal(err)
	}

	_, err := audit.VerifyStore(ctx, appendAfterScan{src: db.DB, db: db}, audit.VerifyOptions{})
	var be *audit.BrokenError
	if !errors.As(err, &be) {
		t.Logf("separate transactions: %v (the race did not show)", err)
	}

	var rep audit.Report
	err = db.ViewAudit(ctx, func(s store.AuditSnapshot) error {
		var verr error
		rep, verr = audit.VerifyStore(ctx, appendAfterScan{src: s, db: db}, audit.VerifyOptions{})
		return verr
	})
	if err != nil || rep.Records != 4 {
		t.Fatalf("one snapshot: %d records, %v", rep.Records, err)
	}
	if _, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{}); err != nil {
		t.Fatalf("afterwards: %v", err)
	}
}
