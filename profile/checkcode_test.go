package profile_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
)

// TestSigningCodeSpentOnlyWithTheSeal: checking a right signing code leaves it usable; a wrong one counts as on
// redemption; a redemption whose recorded seal fails (the store write, a request no longer pending) leaves the code
// unspent; a redemption that records spends it, once.
func TestSigningCodeSpentOnlyWithTheSeal(t *testing.T) {
	e := newEnv(t)
	p := e.activeProfile(t, "jan_ok", pesel)
	d := sha256.Sum256([]byte("skierowanie"))
	docs := []profile.SigningDocument{{RequestID: "req-1", Name: "skierowanie.pdf", Digest: d[:]}}
	if _, err := e.svc.IssueBatchSigningCode(ctx, p.ID, docs); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode(t, "jan_ok@example.test")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 0; i < 3; i++ {
		if err := e.svc.CheckBatchSigningCode(ctx, p.ID, docs, code); err != nil {
			t.Fatalf("check %d of the right code: %v", i, err)
		}
	}
	wantErr(t, e.svc.CheckBatchSigningCode(ctx, p.ID, docs, wrong), profile.ErrInvalidCode)
	other := sha256.Sum256([]byte("other"))
	wantErr(t, e.svc.CheckBatchSigningCode(ctx, p.ID, []profile.SigningDocument{{RequestID: "req-1", Digest: other[:]}}, code),
		profile.ErrCodeMismatch)

	diskFull := errors.New("write: no space left on device")
	if err := e.svc.RedeemBatchSigningCodeAnd(ctx, p.ID, docs, code, func(*store.Tx) error { return diskFull }); !errors.Is(err, diskFull) {
		t.Fatalf("a failed record: %v", err)
	}
	recorded := 0
	if err := e.svc.RedeemBatchSigningCodeAnd(ctx, p.ID, docs, code, func(*store.Tx) error { recorded++; return nil }); err != nil || recorded == 0 {
		t.Fatalf("redeem after the failed record: %v (recorded %d)", err, recorded)
	}
	wantErr(t, e.svc.RedeemBatchSigningCodeAnd(ctx, p.ID, docs, code, func(*store.Tx) error { t.Error("recorded twice"); return nil }),
		profile.ErrInvalidCode)
	wantErr(t, e.svc.CheckBatchSigningCode(ctx, p.ID, docs, code), profile.ErrInvalidCode)
	redeems := 0
	for _, r := range e.auditRecords(t) {
		if r.Kind == "code.redeem" && r.Details["purpose"] == "sign" {
			redeems++
		}
	}
	if redeems != 1 {
		t.Fatalf("%d signing-code redemptions audited, want 1", redeems)
	}
}

// writeCounter is the real store, counting its write transactions.
type writeCounter struct {
	profile.Store
	writes atomic.Int32
}

func (w *writeCounter) Update(ctx context.Context, fn func(*store.Tx) error) error {
	w.writes.Add(1)
	return w.Store.Update(ctx, fn)
}

func (w *writeCounter) Batch(ctx context.Context, fn func(*store.Tx) error) error {
	w.writes.Add(1)
	return w.Store.Batch(ctx, fn)
}

// TestSigningCodeCheckWritesOnlyWhatItMustRecord: checking a right code (as every confirmation does before it
// seals) costs no write transaction, a durable commit on the store; what a check must record still is recorded,
// each in its own write: wrong entries (the third kills the code) and an expired code (deleted, audited).
func TestSigningCodeCheckWritesOnlyWhatItMustRecord(t *testing.T) {
	e := newEnv(t)
	p := e.activeProfile(t, "jan_ok", pesel)
	st := &writeCounter{Store: e.db}
	svc, err := profile.New(st, e.sent, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("skierowanie"))
	docs := []profile.SigningDocument{{RequestID: "req-1", Name: "skierowanie.pdf", Digest: d[:]}}
	if _, err := svc.IssueBatchSigningCode(ctx, p.ID, docs); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode(t, "jan_ok@example.test")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	st.writes.Store(0)
	for i := 0; i < 3; i++ {
		if err := svc.CheckBatchSigningCode(ctx, p.ID, docs, code); err != nil {
			t.Fatalf("check %d of the right code: %v", i, err)
		}
	}
	if n := st.writes.Load(); n != 0 {
		t.Errorf("checking a right code three times made %d write transactions, want 0", n)
	}
	wantErr(t, svc.CheckBatchSigningCode(ctx, p.ID, docs, wrong), profile.ErrInvalidCode)
	wantErr(t, svc.CheckBatchSigningCode(ctx, p.ID, docs, wrong), profile.ErrInvalidCode)
	wantErr(t, svc.CheckBatchSigningCode(ctx, p.ID, docs, wrong), profile.ErrCodeKilled)
	if n := st.writes.Load(); n != 3 {
		t.Errorf("three wrong entries made %d write transactions, want 3", n)
	}
	wantErr(t, svc.CheckBatchSigningCode(ctx, p.ID, docs, code), profile.ErrInvalidCode) // killed: gone

	e.clock.Advance(2 * time.Second)
	if _, err := svc.IssueBatchSigningCode(ctx, p.ID, docs); err != nil {
		t.Fatal(err)
	}
	code = e.lastCode(t, "jan_ok@example.test")
	e.clock.Advance(time.Hour)
	wantErr(t, svc.CheckBatchSigningCode(ctx, p.ID, docs, code), profile.ErrCodeExpired)
	wantErr(t, svc.CheckBatchSigningCode(ctx, p.ID, docs, code), profile.ErrInvalidCode) // deleted when found expired
	var fails, kills, expiries int
	for _, r := range e.auditRecords(t) {
		switch r.Kind {
		case "code.fail":
			fails++
		case "code.kill":
			kills++
		case "code.expire":
			expiries++
		}
	}
	if fails != 2 || kills != 1 || expiries != 1 {
		t.Errorf("audited %d failures, %d kills, %d expiries; want 2, 1, 1", fails, kills, expiries)
	}
}

// TestSigningCodeIssuedWithItsRecord: IssueBatchSigningCodeAnd stores what record writes in the transaction that
// issues the code; when record fails, no code is issued, nothing is sent, and the holder's last code still works.
func TestSigningCodeIssuedWithItsRecord(t *testing.T) {
	e := newEnv(t)
	p := e.activeProfile(t, "jan_ok", pesel)
	d := sha256.Sum256([]byte("skierowanie"))
	docs := []profile.SigningDocument{{RequestID: "req-1", Name: "skierowanie.pdf", Digest: d[:]}}
	if _, err := e.svc.IssueBatchSigningCode(ctx, p.ID, docs); err != nil {
		t.Fatal(err)
	}
	last := e.lastCode(t, "jan_ok@example.test")
	sent := len(e.sent.Messages())

	e.clock.Advance(2 * time.Second)
	taken := errors.New("the request is another holder's")
	other := sha256.Sum256([]byte("inny"))
	otherDocs := []profile.SigningDocument{{RequestID: "req-2", Name: "inny.pdf", Digest: other[:]}}
	if _, err := e.svc.IssueBatchSigningCodeAnd(ctx, p.ID, otherDocs, func(*store.Tx) error { return taken }); !errors.Is(err, taken) {
		t.Fatalf("a code whose record failed: %v", err)
	}
	if n := len(e.sent.Messages()) - sent; n != 0 {
		t.Fatalf("%d messages sent for a code whose record failed", n)
	}
	if err := e.svc.CheckBatchSigningCode(ctx, p.ID, docs, last); err != nil {
		t.Fatalf("the last code after a failed issue: %v", err)
	}

	e.clock.Advance(2 * time.Second)
	recorded := 0
	if _, err := e.svc.IssueBatchSigningCodeAnd(ctx, p.ID, otherDocs, func(tx *store.Tx) error {
		recorded++
		_, err := tx.GetCode(p.ID, "sign") // the code this transaction issues is there already
		return err
	}); err != nil || recorded == 0 {
		t.Fatalf("issue with a record: %v (recorded %d)", err, recorded)
	}
	if err := e.svc.CheckBatchSigningCode(ctx, p.ID, otherDocs, e.lastCode(t, "jan_ok@example.test")); err != nil {
		t.Fatalf("the code issued with its record: %v", err)
	}
}
