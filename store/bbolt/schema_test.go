package bbolt

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

// oldStore writes a store as a schema-1 binary did: no meta bucket, no chain key, unkeyed audit records (three
// and a seal) and one profile.
func oldStore(t *testing.T, path string) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := &DB{bolt: b}
	db.DB = store.New(backend{db})
	p := store.Profile{ID: "p1", ApplicationNumber: "APP-1", Login: "Ala", LoginKey: "ala", PESELHash: []byte("hash-1"),
		Status: "active", FirstName: "Ala", Surname: "Testowa", Created: t0, Updated: t0, ApplicationExpires: t0.Add(time.Hour)}
	if err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateProfile(p); err != nil {
			return err
		}
		return tx.Audit(audit.Event{Time: t0, Kind: "profile.register", Actor: "holder:p1", Subject: "p1"})
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := db.AppendAudit(ctx, audit.Event{Time: t0.Add(time.Second), Kind: "test.event", Actor: "system", Subject: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := (&audit.Sealer{Signer: key}).Seal(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenMigratesSchema1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	oldStore(t, path)
	if _, err := os.Stat(filepath.Join(dir, audit.ChainKeyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an old store has no chain key: %v", err)
	}
	// read-only opens (audit verify, backup of a stopped store) read an old store without changing it
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if ro.Schema() != 1 || ro.AuditChainKey() != nil {
		t.Fatalf("read-only old store: schema %d, key %v", ro.Schema(), ro.AuditChainKey())
	}
	if _, err := audit.VerifyStore(ctx, ro, audit.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	ro.Close()

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if db.Schema() != SchemaVersion {
		t.Fatalf("schema after open: %d", db.Schema())
	}
	key, err := audit.LoadChainKey(filepath.Join(dir, audit.ChainKeyFileName))
	if err != nil || key.KeyedFrom != 5 {
		t.Fatalf("chain key after migration: %+v %v", key, err)
	}
	if err := db.AppendAudit(ctx, audit.Event{Time: t0.Add(time.Minute), Kind: "test.after", Actor: "system", Subject: "x"}); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{})
	if err != nil || rep.Records != 5 || rep.Keyed != 1 || rep.Seals != 1 {
		t.Fatalf("old chain + keyed record: %+v %v", rep, err)
	}
	var p store.Profile
	if err := db.View(ctx, func(tx *store.Tx) error { p, err = tx.GetProfileByLogin("ala"); return err }); err != nil || p.ID != "p1" {
		t.Fatalf("the old profile after migration: %+v %v", p, err)
	}
	db.Close()
	// a second open finds the current schema and the same key
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if k := db.AuditChainKey(); k.KeyedFrom != 5 || !bytes.Equal(k.Secret, key.Secret) {
		t.Fatalf("reopen changed the key: %+v", k)
	}
	if _, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bMeta)).Put([]byte(kSchema), []byte(fmt.Sprint(SchemaVersion+1)))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, ro := range []bool{false, true} {
		_, err = Open(path, Options{ReadOnly: ro})
		if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "newer trustsign") {
			t.Fatalf("read-only %v: %v", ro, err)
		}
	}
}

func TestOpenRefusesKeyedStoreWithoutKey(t *testing.T) {
	dir := t.TempDir()
	db, err := OpenDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(ctx, audit.Event{Time: t0, Kind: "test.event", Actor: "system", Subject: "s"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.Remove(filepath.Join(dir, audit.ChainKeyFileName)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDir(dir, Options{}); !errors.Is(err, ErrChainKeyMissing) {
		t.Fatalf("keyed store without its key: %v", err)
	}
	// read-only it opens (audit export), without a key: its MACs cannot be checked, and the report says so
	ro, err := OpenDir(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if rep, err := audit.VerifyStore(ctx, ro, audit.VerifyOptions{}); err != nil || ro.AuditChainKey() != nil || rep.MACsNotChecked != 1 || rep.Keyed != 0 {
		t.Fatalf("keyed log without its key: %+v %v", rep, err)
	}
}

// TestBackupWhileWriting copies the store while writers keep appending, restores the copy into a new data
// directory (the backup file as trustsign.db, the chain key file beside it) and checks that it opens, its audit
// log verifies, and it holds what was committed before the copy began.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	db, err := OpenDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := 0; i < 50; i++ {
		if err := db.AppendAudit(ctx, audit.Event{Time: t0, Kind: "test.before", Actor: "system", Subject: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := db.AppendAudit(ctx, audit.Event{Time: t0, Kind: "test.during", Actor: "system", Subject: fmt.Sprint(i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	restored := t.TempDir()
	n, err := BackupFile(ctx, db, filepath.Join(restored, FileName))
	close(stop)
	wg.Wait()
	if err != nil || n == 0 {
		t.Fatalf("backup: %d %v", n, err)
	}
	key, _ := os.ReadFile(filepath.Join(dir, audit.ChainKeyFileName))
	if err := os.WriteFile(filepath.Join(restored, audit.ChainKeyFileName), key, 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := OpenDir(restored, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	rep, err := audit.VerifyStore(ctx, cp, audit.VerifyOptions{})
	if err != nil || rep.Records < 50 || rep.Keyed != rep.Records {
		t.Fatalf("restored log: %+v %v", rep, err)
	}
	if cp.Schema() != SchemaVersion {
		t.Fatalf("restored schema %d", cp.Schema())
	}
	// a canceled context makes no copy
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Backup(cctx, db, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}
