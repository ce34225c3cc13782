package bbolt

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trustsign/trustsign/audit"
)

// TestRestorePreUpgradeBackupAfterTip: docs/operations.md says to take a backup before upgrading and to restore it
// to go back, with the kept audit-chain.key. After the upgrade the key file says the store keeps an end-of-log
// mark (Tipped), so the restored pre-upgrade store (no mark, its log shorter than the live one) refuses to open
// for writing with ErrAuditTruncated ("the mark is gone ... restore the store from a backup"), which is what
// the operator just did. Putting back a whole earlier store is what the mark does not claim to catch (README
// limitations); only a log that reaches past the point where marking began can have lost its mark.
func TestRestorePreUpgradeBackupAfterTip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(t *testing.T, path string)
	}{
		{"schema 1 store", oldStore},
		{"keyed store from before the mark", func(t *testing.T, path string) {
			db, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := db.AppendAudit(ctx, audit.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: "test.event", Actor: "system"}); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			// as the previous release left it: no mark, the key not Tipped
			b, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("audit_tip")) }); err != nil {
				t.Fatal(err)
			}
			b.Close()
			keyPath := filepath.Join(filepath.Dir(path), audit.ChainKeyFileName)
			k, err := audit.LoadChainKey(keyPath)
			if err != nil {
				t.Fatal(err)
			}
			k.Tipped = false
			if err := k.Save(keyPath); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			tc.before(t, path)
			backup, err := os.ReadFile(path) // the backup taken before upgrading
			if err != nil {
				t.Fatal(err)
			}
			db, err := Open(path, Options{}) // the upgrade: the mark is made, the key says Tipped
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := db.AppendAudit(ctx, audit.Event{Time: t0.Add(time.Hour + time.Duration(i)*time.Second), Kind: "test.event", Actor: "system"}); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			if err := os.WriteFile(path, backup, 0o600); err != nil { // restore, keeping the key
				t.Fatal(err)
			}
			db, err = Open(path, Options{})
			if err != nil {
				t.Fatalf("the restored pre-upgrade backup does not open: %v", err)
			}
			db.Close()
		})
	}
}
