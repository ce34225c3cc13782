package signing_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
)

// TestWebhookSlowReceiverDoesNotHoldOthers: one integrator's slow (tarpit) webhook endpoint must not hold up the
// notifications owed to the others. DeliverDue posts a batch of Concurrency deliveries and waits for the whole batch
// (wg.Wait) before it claims the next, so one delivery to an endpoint that answers only at the client's 10 s
// timeout stops every other delivery of the node for 10 s per attempt, and an integrator can owe itself any number of
// them (requests that expire notify failureUrl, retried 8 times). Now a slot is refilled as soon as its attempt
// ends.
func TestWebhookSlowReceiverDoesNotHoldOthers(t *testing.T) {
	release := make(chan struct{})
	inFlight := make(chan struct{}, 16)
	tarpit := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer tarpit.Close()
	defer close(release)
	victim := newReceiver(t, nil)
	e := newEnv(t)
	d := e.withDeliverer(signing.WebhookOptions{AllowPrivate: true, Concurrency: 2, Poll: 20 * time.Millisecond})
	now := e.clock.Now()
	if err := e.db.Update(ctx, func(tx *store.Tx) error {
		for i, u := range []string{tarpit.URL + "/a", victim.URL + "/first", victim.URL + "/second"} {
			id := fmt.Sprint("d", i)
			// the attacker's delivery fell due a moment before the victims'
			if err := tx.AddWebhookDelivery(store.WebhookDelivery{ID: id, RequestID: "r" + id, ClientID: "c", URL: u,
				Body: []byte(`{}`), Created: now, Due: now.Add(time.Duration(i) * time.Millisecond)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Second)
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.Run(run); close(done) }()
	defer func() { stop(); <-done }()
	<-inFlight                // one of the node's two slots is in the tarpit; the other posts "/first" and is free again
	for i := 0; i < 25; i++ { // Run polls every 20 ms: half a second of polls and kicks
		d.Kick()
		time.Sleep(20 * time.Millisecond)
		if len(victim.hooks()) == 2 {
			return
		}
	}
	var owed store.WebhookDelivery
	for _, o := range e.owed(t) {
		if o.ID == "d2" {
			owed = o
		}
	}
	t.Errorf("the victim's second notification waits for the tarpit: %d of 2 posted, the second claimed %d times, though a slot was free", len(victim.hooks()), owed.Attempts)
}
