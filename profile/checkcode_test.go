package profile_test

import (
	"crypto/sha256"
	"errors"
	"testing"

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
