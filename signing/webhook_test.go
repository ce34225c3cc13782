package signing_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trustsign/trustsign/signing"
)

func TestWebhookNotifier(t *testing.T) {
	got := make(chan signing.WebhookPayload, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p signing.WebhookPayload
		json.NewDecoder(r.Body).Decode(&p)
		p.Status = r.URL.Path + ":" + p.Status
		got <- p
	}))
	defer srv.Close()
	notify := signing.WebhookNotifier(signing.WebhookOptions{AllowPrivate: true, Backoff: time.Millisecond})
	notify(context.Background(), signing.Request{ID: "a", Status: "signed", Webhook: true, SuccessURL: srv.URL + "/ok", FailureURL: srv.URL + "/fail"})
	notify(context.Background(), signing.Request{ID: "b", Status: "expired", Webhook: true, SuccessURL: srv.URL + "/ok", FailureURL: srv.URL + "/fail"})
	notify(context.Background(), signing.Request{ID: "c", Status: "signed", SuccessURL: srv.URL + "/ok"}) // not asked for
	seen := map[string]string{}
	for i := 0; i < 2; i++ {
		select {
		case p := <-got:
			seen[p.ID] = p.Status
		case <-time.After(5 * time.Second):
			t.Fatal("notification not delivered")
		}
	}
	if seen["a"] != "/ok:signed" || seen["b"] != "/fail:expired" {
		t.Errorf("notifications %v", seen)
	}
	select {
	case p := <-got:
		t.Errorf("unexpected notification %+v", p)
	case <-time.After(100 * time.Millisecond):
	}
}

// The default client refuses loopback and private addresses (SSRF from integrator-supplied URLs).
func TestWebhookRefusesPrivateAddresses(t *testing.T) {
	hit := make(chan bool, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit <- true }))
	defer srv.Close()
	notify := signing.WebhookNotifier(signing.WebhookOptions{Backoff: time.Millisecond})
	notify(context.Background(), signing.Request{ID: "a", Status: "signed", Webhook: true, SuccessURL: srv.URL, FailureURL: srv.URL})
	select {
	case <-hit:
		t.Error("the webhook reached a loopback address")
	case <-time.After(300 * time.Millisecond):
	}
}
