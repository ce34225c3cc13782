package bbolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trustsign/trustsign/audit"
)

// cut deletes audit records after keep, and the stored tip too when dropTip (an attacker who can write the store
// file but has not the chain key, which lives beside it).
func cut(t *testing.T, path string, keep uint64, dropTip bool) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"audit", "audit_heads"} {
			bk := tx.Bucket([]byte(name))
			if bk == nil {
				continue
			}
			var del [][]byte
			bk.ForEach(func(k, _ []byte) error { //nolint:errcheck
				if audit.SeqFromKey(k) > keep {
					del = append(del, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range del {
				if err := bk.Delete(k); err != nil {
					return err
				}
			}
		}
		if dropTip {
			return tx.DeleteBucket([]byte("audit_tip"))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestAttackAuditTruncation: records cut off the end of the audit log, the whole log deleted, or the keyed
// end-of-log mark deleted with them, are caught by verification (read-only, as `audit verify` opens it) and the
// store refuses to open for writing (which would move the mark past the cut). Before the mark, a log cut back to
// an earlier run's shutdown seal verified as intact.
func TestAttackAuditTruncation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keep    uint64
		dropTip bool
	}{{"tail", 3, false}, {"whole log", 0, false}, {"tail and mark", 3, true}, {"whole log and mark", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			db, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 6 {
				if err := db.AppendAudit(ctx, audit.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: "test.event", Actor: "system", Subject: fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			// intact: verifies, and opens again
			ro, err := Open(path, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := audit.VerifyStore(ctx, ro, audit.VerifyOptions{}); err != nil {
				t.Fatalf("intact log: %v", err)
			}
			ro.Close()

			cut(t, path, tc.keep, tc.dropTip)
			ro, err = Open(path, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			_, err = audit.VerifyStore(ctx, ro, audit.VerifyOptions{})
			ro.Close()
			if !errors.Is(err, audit.ErrBroken) {
				t.Errorf("cut log verified: %v", err)
			}
			if _, err := Open(path, Options{}); !errors.Is(err, ErrAuditTruncated) {
				t.Errorf("cut log opened for writing: %v", err)
			}
		})
	}
}

// TestTipMadeForOlderStore: a store from before the mark gets one on its first open for writing, and its key
// file records that it keeps one (so that deleting the mark later does not pass as an older store).
func TestTipMadeForOlderStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	oldStore(t, path)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	k, err := audit.LoadChainKey(filepath.Join(dir, audit.ChainKeyFileName))
	if err != nil || !k.Tipped {
		t.Fatalf("key %+v %v", k, err)
	}
	if k.TipFrom == 0 {
		t.Fatalf("the key does not say where the tip began: %+v", k)
	}
	// cut below the tip's start with the tip kept: caught
	cut(t, path, 1, false)
	if _, err := Open(path, Options{}); !errors.Is(err, ErrAuditTruncated) {
		t.Errorf("a cut older store opened: %v", err)
	}
	// without the tip, a log ending before the tip began is a copy from before the upgrade (a restored backup),
	// which opens: putting back an older store is what the published heads catch, not the tip
	cut(t, path, 1, true)
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("a restored pre-upgrade copy: %v", err)
	}
	db.Close()
}
