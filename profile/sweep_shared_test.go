package profile_test

import (
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
)

// TestSweepRemovesSharedShortLivedRecords: Sweep also removes what the API and the pages keep in the store for a
// short time when nodes share it: counter windows that have ended and verification reports that have expired
// (they may name signers), and leaves live ones.
func TestSweepRemovesSharedShortLivedRecords(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	if err := e.db.Update(ctx, func(tx *store.Tx) error {
		for _, k := range []string{"api:verify:203.0.113.7", "api:lookup-addr:203.0.113.8"} {
			if _, _, err := tx.CountEvent(k, 10, time.Minute, now); err != nil {
				return err
			}
		}
		if _, _, err := tx.CountEvent("api:verify:203.0.113.9", 10, time.Hour, now); err != nil {
			return err
		}
		if err := tx.PutVerifyReport("link-old", store.VerifyReport{Expires: now.Add(time.Minute), Report: []byte("{}")}, now, 10); err != nil {
			return err
		}
		return tx.PutVerifyReport("link-new", store.VerifyReport{Expires: now.Add(time.Hour), Report: []byte("{}")}, now, 10)
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	r, err := e.svc.Sweep(ctx)
	if err != nil || r.DeletedCounterWindows != 2 || r.DeletedReports != 1 {
		t.Fatalf("sweep: %+v %v; want 2 windows and 1 report removed", r, err)
	}
	if err := e.db.View(ctx, func(tx *store.Tx) error {
		if w, _ := tx.CounterWindowOf("api:verify:203.0.113.9", e.clock.Now()); w.Count != 1 {
			t.Errorf("a live window was removed: %+v", w)
		}
		if _, err := tx.VerifyReportOf("link-new", e.clock.Now()); err != nil {
			t.Errorf("a live report was removed: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
