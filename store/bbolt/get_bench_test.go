package bbolt

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
)

// BenchmarkGetProfile reads a profile as the signing flow does (a View and GetProfile).
func BenchmarkGetProfile(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), FileName), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p := store.Profile{ID: "p0000000000000001", ApplicationNumber: "W-2026-000001", Login: "lekarz00001",
		LoginKey: "lekarz00001", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		FirstName: "Anna", Surname: "Testowa", PESEL: "44051401359", PESELHash: make([]byte, 32), Email: "a@example.test",
		Phone: "+48500100200", CodeChannel: "email", Status: "active", Created: now, Updated: now, ApplicationExpires: now,
		ActivatedAt: &now, Expires: &now, ContactConfirmedAt: &now,
		Confirmation: &store.Confirmation{Method: "in-person", At: now, By: "officer-1", DocumentType: "id-card",
			DocumentHash: make([]byte, 32), Details: map[string]string{"office": "Warszawa"}},
		History: []store.Transition{{From: "", To: "pending", At: now, Actor: "holder"}, {From: "pending", To: "active", At: now, Actor: "officer-1"}}}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(p) }); err != nil {
		b.Fatal(err)
	}
	if err := db.Checkpoint(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := db.View(ctx, func(tx *store.Tx) error { _, err := tx.GetProfile(p.ID); return err }); err != nil {
			b.Fatal(err)
		}
	}
}
