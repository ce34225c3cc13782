package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
)

// TestBackupRestore: admin changes and a profile, a backup, a restore into a new data directory as documented
// (the copy as trustsign.db, the chain key beside it), and the restored directory shows the same profile and
// maintenance windows to the admin commands and its audit log verifies.
func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"admin", "client", "create", "--data", dir, "--name", "e-recepta", "--scopes", "sign"},
		{"admin", "maintenance", "add", "--data", dir, "--start", "2027-01-01T10:00:00Z", "--end", "2027-01-02T10:00:00Z", "--message", "prace"},
	} {
		if code, _, stderr := ts(t, args...); code != 0 {
			t.Fatalf("%v: %d %s", args[1:3], code, stderr)
		}
	}
	db, err := bbolt.OpenDir(dir, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	p := store.Profile{ID: "p-restore", ApplicationNumber: "APP-R1", Login: "Zofia", LoginKey: "zofia", PESELHash: []byte("keyed-hash"),
		Status: "active", FirstName: "Zofia", Surname: "Próbna", Created: now, Updated: now, ApplicationExpires: now.Add(time.Hour)}
	if err := db.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.CreateProfile(p); err != nil {
			return err
		}
		return tx.Audit(audit.Event{Time: now, Kind: "profile.register", Actor: "holder:" + p.ID, Subject: p.ID})
	}); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := (&audit.Sealer{Signer: key}).SealNow(context.Background(), db, audit.SealShutdown); err != nil {
		t.Fatal(err)
	}
	// the server holds the store: the CLI says so (the lead's socket path serves this case)
	if code, _, stderr := ts(t, "admin", "backup", "--data", dir, filepath.Join(t.TempDir(), "b.db")); code != exitNoInput || !strings.Contains(stderr, "running server") {
		t.Fatalf("backup of a held store: %d %s", code, stderr)
	}
	db.Close()

	backup := filepath.Join(t.TempDir(), "trustsign-backup.db")
	if code, _, stderr := ts(t, "admin", "backup", "--data", dir, backup); code != 0 {
		t.Fatalf("backup: %d %s", code, stderr)
	}
	for _, bad := range [][]string{
		{"admin", "backup", "--data", dir},
		{"admin", "backup", "--data", dir, filepath.Join(dir, bbolt.FileName)},
	} {
		if code, _, _ := ts(t, bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want 64", bad, code)
		}
	}
	if code, _, _ := ts(t, "admin", "backup", "--data", filepath.Join(dir, "nowhere"), backup); code != exitNoInput {
		t.Errorf("missing data directory: exit %d", code)
	}

	restored := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(restored, 0o700)
	copyFile(t, backup, filepath.Join(restored, bbolt.FileName))
	copyFile(t, filepath.Join(dir, audit.ChainKeyFileName), filepath.Join(restored, audit.ChainKeyFileName))
	// a new directory needs the profile secret too (docs/operations.md, Restore): another is refused
	copyFile(t, filepath.Join(dir, profile.SecretFileName), filepath.Join(restored, profile.SecretFileName))

	_, want, _ := ts(t, "admin", "maintenance", "list", "--data", dir)
	code, got, stderr := ts(t, "admin", "maintenance", "list", "--data", restored)
	if code != 0 || got != want || !strings.Contains(got, "prace") {
		t.Fatalf("maintenance after restore: %d %q, want %q (%s)", code, got, want, stderr)
	}
	if code, out, stderr := ts(t, "audit", "verify", "--data", restored); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify after restore: %d %s %s", code, out, stderr)
	}
	rdb, err := bbolt.OpenDir(restored, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var got2 store.Profile
	if err := rdb.View(context.Background(), func(tx *store.Tx) error { got2, err = tx.GetProfileByLogin("zofia"); return err }); err != nil || got2.Surname != "Próbna" {
		t.Fatalf("profile after restore: %+v %v", got2, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
