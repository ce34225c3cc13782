package signing_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
)

// TestWebhookURLSecretNotLeakedOnTransportError: an integrator's webhook URL (and the token in its query) must
// never reach the log, the stored LastError or the audit log. redactURL replaced the URL as submitted, but on a
// transport error (connection refused, timeout, TLS) net/http's url.Error quotes the URL as it re-serialises it: the
// scheme lower-cased and a password masked as "***". An URL that checkURL accepts in such a form (HTTPS://…,
// https://user:pw@…) then left its query, token included, in all three.
func TestWebhookURLSecretNotLeakedOnTransportError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every POST fails with "connection refused"
	e := newEnv(t)
	var logs bytes.Buffer
	d := e.withDeliverer(signing.WebhookOptions{AllowPrivate: true, Attempts: 2, Backoff: time.Minute,
		Logger: slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil))})
	urls := []string{
		"HTTP://" + addr + "/hook?token=s3cret",         // scheme lower-cased by url.Parse
		"http://user:pw@" + addr + "/hook?token=s3cret", // password masked by net/http
		"http://" + addr + "/a b?token=s3cret",          // path re-escaped (%20)
	}
	now := e.clock.Now()
	if err := e.db.Update(ctx, func(tx *store.Tx) error {
		for i, u := range urls {
			id := fmt.Sprint("d", i)
			if err := tx.AddWebhookDelivery(store.WebhookDelivery{ID: id, RequestID: "r" + id, ClientID: "c", URL: u,
				Body: []byte(`{}`), Created: now, Due: now}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	d.DeliverDue(ctx) //nolint:errcheck
	var stored strings.Builder
	for _, o := range e.owed(t) {
		if o.LastError == "" {
			t.Errorf("%s: no LastError after a failed attempt", o.ID)
		}
		stored.WriteString(o.LastError + "\n")
	}
	e.clock.Add(time.Minute)
	d.DeliverDue(ctx) //nolint:errcheck // the second and last attempt: given up, with an audit record
	if owed := e.owed(t); len(owed) != 0 {
		t.Fatalf("still owed: %+v", owed)
	}
	var exported strings.Builder
	if _, err := audit.Export(ctx, e.db, &exported); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(exported.String(), `"kind":"webhook.failed"`); n != len(urls) {
		t.Errorf("%d webhook.failed records, want %d", n, len(urls))
	}
	for what, text := range map[string]string{"log": logs.String(), "stored LastError": stored.String(), "audit log": exported.String()} {
		for _, secret := range []string{"s3cret", "user:"} {
			if strings.Contains(text, secret) {
				t.Errorf("the webhook URL (%q) is in the %s:\n%s", secret, what, text)
			}
		}
	}
}
