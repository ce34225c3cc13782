package api_test

// Durable webhooks across nodes (issue 13): every node runs a signing.Deliverer on the shared database; a
// notification is recorded with the request's end and posted by whichever node claims it.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
)

// receivedHook is one notification an integrator's endpoint got.
type receivedHook struct {
	path, delivery, request string
	payload                 signing.WebhookPayload
}

// hookReceiver is an integrator's webhook endpoint (a real HTTP server on loopback): it records every POST and
// answers what status says for it (200 when status is nil); nth counts the POSTs for the same request.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []receivedHook
	status func(h receivedHook, nth int) int
}

func newHookReceiver(t *testing.T, status func(h receivedHook, nth int) int) *hookReceiver {
	t.Helper()
	r := &hookReceiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := receivedHook{path: req.URL.Path, delivery: req.Header.Get(signing.HeaderDelivery), request: req.Header.Get(signing.HeaderRequest)}
		if err := json.NewDecoder(req.Body).Decode(&h.payload); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		r.mu.Lock()
		r.got = append(r.got, h)
		nth := 0
		for _, g := range r.got {
			if g.request == h.request {
				nth++
			}
		}
		r.mu.Unlock()
		if r.status != nil {
			w.WriteHeader(r.status(h, nth))
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// byRequest groups the notifications by request id.
func (r *hookReceiver) byRequest() map[string][]receivedHook {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]receivedHook{}
	for _, h := range r.got {
		out[h.request] = append(out[h.request], h)
	}
	return out
}

// waitFor polls cond until it holds (or fails the test after a generous deadline: no timing is asserted).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// owedWebhooks counts the deliveries the shared store still owes.
func (c *cluster) owedWebhooks(t *testing.T) int {
	t.Helper()
	var n int
	if err := c.nodes[0].DB.View(bg, func(tx *store.Tx) error {
		list, err := tx.WebhookDeliveries(0)
		n = len(list)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMultiNodeWebhooksDeliveredOnce: two nodes end requests concurrently (signed and cancelled through either
// node, expired by both nodes' sweeps at once) while both run their deliverers, as serve does, against a real
// HTTP receiver: every finished request's webhook arrives, with its own delivery id, and none twice; the one the
// receiver first answers 500 is retried after the backoff and then arrives with the same delivery id.
func TestMultiNodeWebhooksDeliveredOnce(t *testing.T) {
	t.Parallel()
	var flaky string
	var fmu sync.Mutex
	rx := newHookReceiver(t, func(h receivedHook, nth int) int {
		fmu.Lock()
		defer fmu.Unlock()
		if h.request == flaky && nth == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	c := newCluster(t, clusterOptions{webhooks: &signing.WebhookOptions{AllowPrivate: true, Backoff: time.Second, Poll: 50 * time.Millisecond},
		codes: profile.CodeOptions{ResendInterval: time.Nanosecond}}) // codes back to back: the clock all but stands still
	for _, n := range c.nodes {
		n.runDeliverer(t)
	}
	rxc := c.integrator(t, "e-recepta")
	sub := func(i int) client.SigningRequest {
		t.Helper()
		r, err := rxc.Submit(bg, client.Submission{Document: []byte(fmt.Sprintf("<recepta>%d</recepta>", i)), FileName: "r.xml",
			SuccessURL: rx.URL + "/ok", FailureURL: rx.URL + "/fail", Webhook: true})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	want := map[string]string{} // request id → path and status
	// expired: both nodes sweep at once
	for i := range 4 {
		want[sub(i).ID] = "/fail expired"
	}
	c.clock.Advance(2 * time.Hour)
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Go(func() {
			if _, _, err := n.Signing.Sweep(bg, 7*24*time.Hour); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// signed and cancelled on each node, the two nodes at once (a holder each, so that each one's last code is the
	// one it just asked for)
	logins := []string{"anna", "bolek"}
	toks := make([]string, len(logins))
	for i, l := range logins {
		_, toks[i] = c.holder(t, l)
	}
	var ids []string
	for i := range 8 {
		ids = append(ids, sub(10+i).ID)
	}
	fmu.Lock()
	flaky = ids[0]
	fmu.Unlock()
	var mu sync.Mutex
	for k, n := range []int{nodeA, nodeB} {
		on, login := c.client(n, client.SessionToken(toks[k])), logins[k]
		wg.Go(func() {
			for i := k; i < len(ids); i += 2 {
				id := ids[i]
				if i%4 < 2 {
					if _, err := on.Cancel(bg, id); err != nil {
						t.Errorf("cancel %s: %v", id, err)
					}
					mu.Lock()
					want[id] = "/fail cancelled"
					mu.Unlock()
					continue
				}
				c.clock.Advance(time.Microsecond) // past the resend interval
				if _, err := on.RequestCode(bg, id); err != nil {
					t.Errorf("code %s: %v", id, err)
				}
				for _, nd := range c.nodes {
					nd.Profiles.WaitForDeliveries()
				}
				m, _ := c.sent.Last(login + "@example.test")
				if _, err := on.Confirm(bg, id, m.Code); err != nil {
					t.Errorf("confirm %s: %v", id, err)
				}
				mu.Lock()
				want[id] = "/ok signed"
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// everything arrives; the flaky receiver's first answer was a 500
	waitFor(t, "every webhook but the retried one", func() bool { return len(rx.byRequest()) == len(want) })
	waitFor(t, "the failed attempt to be rescheduled", func() bool {
		var d []store.WebhookDelivery
		c.nodes[0].DB.View(bg, func(tx *store.Tx) (err error) { d, err = tx.WebhookDeliveries(0); return err }) //nolint:errcheck
		return len(d) == 1 && d[0].Attempts == 1 && d[0].ClaimedUntil.IsZero()
	})
	c.clock.Advance(time.Second) // the backoff
	waitFor(t, "the retry", func() bool { return c.owedWebhooks(t) == 0 })
	got := rx.byRequest()
	deliveries := map[string]string{}
	for id, w := range want {
		hs := got[id]
		n := 1
		if id == flaky {
			n = 2
		}
		if len(hs) != n {
			t.Errorf("%s (%s): %d notifications, want %d", id, w, len(hs), n)
			continue
		}
		for _, h := range hs {
			if h.path+" "+h.payload.Status != w || h.payload.ID != id {
				t.Errorf("%s: notification %+v, want %s", id, h, w)
			}
			if other, ok := deliveries[h.delivery]; h.delivery == "" || (ok && other != id) {
				t.Errorf("%s: delivery id %q (also %s's)", id, h.delivery, other)
			}
			deliveries[h.delivery] = id
		}
	}
	if hs := got[flaky]; len(hs) == 2 && hs[0].delivery != hs[1].delivery {
		t.Errorf("the retry changed the delivery id: %s, %s", hs[0].delivery, hs[1].delivery)
	}
	if strings.Contains(c.logs.String(), `"msg":"webhook deliveries"`) {
		t.Errorf("a deliverer failed to claim (the store's retries should absorb the nodes' conflicts):\n%s", c.logs.String())
	}
	c.verifyAudit(t)
}
