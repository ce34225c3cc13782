package bbolt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
)

// Open the store of a data directory and keep an integrator's signing request, audited in the same transaction.
func ExampleOpenDir() {
	dir, _ := os.MkdirTemp("", "trustsign")
	defer os.RemoveAll(dir)
	db, err := bbolt.OpenDir(dir, bbolt.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	req := store.SigningRequest{ID: "r1", ClientID: "c1", Status: store.RequestPending, FileName: "recepta.xml",
		Format: "xades", Document: []byte("<recepta/>"), Created: now, Expires: now.Add(time.Hour)}
	err = db.CreateSigningRequest(ctx, req, audit.Event{Time: now, Kind: "signing.request.create", Actor: "client:c1", Subject: "r1"})
	if err != nil {
		panic(err)
	}
	_, err = db.GetSigningRequest(ctx, "c2", "r1") // another client sees nothing
	fmt.Println(err)
	r, _ := db.AttachSignedDocument(ctx, "r1", store.RequestPending, []byte("<signed/>"), "application/xml", now)
	fmt.Println(r.Status)
	_, err = db.AttachSignedDocument(ctx, "r1", store.RequestPending, []byte("<again/>"), "application/xml", now)
	fmt.Println(err)
	// Output:
	// store: not found: signing request
	// signed
	// store: conflict on status: signed
}

// Copy a store that stays in use, for a backup; restore by putting the copy in place as trustsign.db (with the
// data directory's audit-chain.key beside it) while the service is stopped.
func ExampleBackupFile() {
	dir, _ := os.MkdirTemp("", "trustsign")
	defer os.RemoveAll(dir)
	db, err := bbolt.OpenDir(dir, bbolt.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	ctx := context.Background()
	db.AppendAudit(ctx, audit.Event{Time: time.Now(), Kind: "maintenance.add", Actor: "admin", Subject: "mw-1"})
	n, err := bbolt.BackupFile(ctx, db, filepath.Join(dir, "backup.db"))
	fmt.Println(n > 0, err, db.Schema() == bbolt.SchemaVersion)
	// Output: true <nil> true
}
