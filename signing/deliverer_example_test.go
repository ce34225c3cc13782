package signing_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
)

// A Deliverer posts the webhook deliveries owed in the store (the signing flow records them with Options.Webhooks,
// here one is recorded by hand), with the delivery's id in X-Trustsign-Delivery, and forgets each one delivered.
// `trustsign serve` runs one on every node: go d.Run(ctx).
func ExampleDeliverer() {
	dir, _ := os.MkdirTemp("", "trustsign")
	defer os.RemoveAll(dir)
	db, err := bbolt.OpenDir(dir, bbolt.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	integrator := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		fmt.Println(r.URL.Path, r.Header.Get(signing.HeaderDelivery), r.Header.Get(signing.HeaderRequest))
	}))
	defer integrator.Close()
	ctx := context.Background()
	now := time.Now()
	if err := db.Update(ctx, func(tx *store.Tx) error {
		return tx.AddWebhookDelivery(store.WebhookDelivery{ID: "d1", RequestID: "r1", ClientID: "c1", URL: integrator.URL + "/ok",
			Body: []byte(`{"id":"r1","status":"signed"}`), Created: now, Due: now})
	}); err != nil {
		panic(err)
	}
	d := signing.NewDeliverer(db, signing.WebhookOptions{AllowPrivate: true}) // the integrator listens on loopback
	n, err := d.DeliverDue(ctx)
	fmt.Println(n, err)
	// Output:
	// /ok d1 r1
	// 1 <nil>
}
