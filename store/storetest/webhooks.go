package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
)

func delivery(id string, due time.Time) store.WebhookDelivery {
	return store.WebhookDelivery{ID: id, RequestID: "r" + id, ClientID: "c1", URL: "https://rx.example.test/hook?token=x",
		Body: []byte(`{"id":"r` + id + `"}`), Created: t0, Due: due}
}

func ids(ds []store.WebhookDelivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// testWebhookDeliveries: deliveries owed are claimed by due time, a claim hides them until it runs out, a failed
// attempt is rescheduled only by the claim's holder, a delivered one is gone.
func testWebhookDeliveries(t *testing.T, s Suite) {
	db, _ := open(t, s)
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		for i, id := range []string{"d3", "d1", "d2"} {
			if err := tx.AddWebhookDelivery(delivery(id, t0.Add(time.Duration(i)*time.Second))); err != nil {
				return err
			}
		}
		return nil
	}))
	err := db.Update(ctx, func(tx *store.Tx) error { return tx.AddWebhookDelivery(delivery("d1", t0)) })
	conflictOn(t, err, "id")
	err = db.Update(ctx, func(tx *store.Tx) error { return tx.AddWebhookDelivery(store.WebhookDelivery{ID: "x", Due: t0}) })
	wantErr(t, err, store.ErrInvalid)

	claim := func(now, until time.Time, limit int) []store.WebhookDelivery {
		t.Helper()
		var got []store.WebhookDelivery
		must(t, db.Update(ctx, func(tx *store.Tx) (err error) {
			got, err = tx.ClaimWebhookDeliveries(now, until, limit)
			return err
		}))
		return got
	}
	if got := claim(t0.Add(-time.Second), t0.Add(time.Minute), 0); len(got) != 0 {
		t.Fatalf("claimed %v before anything was due", ids(got))
	}
	got := claim(t0.Add(time.Second), t0.Add(time.Minute), 0) // d3 (t0) and d1 (t0+1s) are due
	if !slices.Equal(ids(got), []string{"d3", "d1"}) || got[0].Attempts != 1 || !got[0].ClaimedUntil.Equal(t0.Add(time.Minute)) {
		t.Fatalf("claimed %+v", got)
	}
	if got := claim(t0.Add(10*time.Second), t0.Add(time.Minute), 0); !slices.Equal(ids(got), []string{"d2"}) {
		t.Fatalf("a second claimer got %v, want only d2 (the others are claimed)", ids(got))
	}
	// d3 failed: its claimer reschedules it; a stale claim may not
	err = db.Update(ctx, func(tx *store.Tx) error {
		return tx.RescheduleWebhookDelivery("d3", t0.Add(time.Hour), t0.Add(2*time.Minute), "answered 500")
	})
	conflictOn(t, err, "claim")
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		return tx.RescheduleWebhookDelivery("d3", t0.Add(time.Minute), t0.Add(2*time.Minute), "answered 500")
	}))
	// d1 delivered
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteWebhookDelivery("d1") }))
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteWebhookDelivery("d1") })) // twice is fine
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if _, err := tx.WebhookDelivery("d1"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("a delivered webhook is still owed: %v", err)
		}
		d, err := tx.WebhookDelivery("d3")
		if err != nil {
			return err
		}
		if !d.ClaimedUntil.IsZero() || d.LastError != "answered 500" || d.Attempts != 1 || !d.Due.Equal(t0.Add(2*time.Minute)) {
			return fmt.Errorf("rescheduled %+v", d)
		}
		if next, err := tx.NextWebhookDue(); err != nil || !next.Equal(t0.Add(time.Minute)) { // d2's claim
			return fmt.Errorf("next due %v %v", next, err)
		}
		list, err := tx.WebhookDeliveries(0)
		if err != nil || !slices.Equal(ids(list), []string{"d2", "d3"}) {
			return fmt.Errorf("owed %v %v", ids(list), err)
		}
		return nil
	}))
	// d2's claimer died: when its claim runs out, d2 is due again (with d3 after its backoff)
	got = claim(t0.Add(2*time.Minute), t0.Add(3*time.Minute), 1)
	if !slices.Equal(ids(got), []string{"d2"}) || got[0].Attempts != 2 {
		t.Fatalf("after the claim ran out: %+v", got)
	}
	got = claim(t0.Add(2*time.Minute), t0.Add(3*time.Minute), 0)
	if !slices.Equal(ids(got), []string{"d3"}) || got[0].Attempts != 2 || string(got[0].Body) != `{"id":"rd3"}` {
		t.Fatalf("the rescheduled delivery: %+v", got)
	}
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		for _, id := range []string{"d2", "d3"} {
			if err := tx.DeleteWebhookDelivery(id); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if _, err := tx.NextWebhookDue(); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("nothing owed, next due: %v", err)
		}
		return nil
	}))
}

// testWebhookClaimsConcurrent: claimers racing over the same due deliveries never get one twice.
func testWebhookClaimsConcurrent(t *testing.T, s Suite) {
	db, _ := open(t, s)
	const n = 40
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		for i := range n {
			if err := tx.AddWebhookDelivery(delivery(fmt.Sprintf("d%02d", i), t0)); err != nil {
				return err
			}
		}
		return nil
	}))
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				var got []store.WebhookDelivery
				if err := db.Update(ctx, func(tx *store.Tx) (err error) {
					got, err = tx.ClaimWebhookDeliveries(t0, t0.Add(time.Minute), 3)
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d of %d deliveries claimed", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s claimed %d times", id, k)
		}
	}
}
