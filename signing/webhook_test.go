package signing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
)

// Every IANA special-purpose range and the host's own addresses are refused; ordinary public addresses pass.
func TestWebhookAddressAllowed(t *testing.T) {
	own := []netip.Addr{netip.MustParseAddr("203.0.114.7"), netip.MustParseAddr("2a01:4f8::7")}
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"93.184.215.14", true}, {"8.8.8.8", true}, {"2606:4700::1111", true}, {"2a00:1450:4001::200e", true},
		{"100.63.255.255", true}, {"100.128.0.0", true}, {"198.17.255.255", true}, {"198.20.0.0", true},
		{"0.0.0.0", false}, {"0.1.2.3", false}, {"10.1.2.3", false}, {"100.64.0.1", false}, {"100.127.255.254", false},
		{"127.0.0.1", false}, {"127.8.8.8", false}, {"169.254.169.254", false}, {"172.16.0.1", false}, {"172.31.255.255", false},
		{"192.0.0.170", false}, {"192.0.2.1", false}, {"192.31.196.1", false}, {"192.52.193.1", false}, {"192.88.99.1", false},
		{"192.168.1.1", false}, {"192.175.48.1", false}, {"198.18.0.1", false}, {"198.19.255.255", false},
		{"198.51.100.1", false}, {"203.0.113.9", false}, {"224.0.0.1", false}, {"239.255.255.250", false},
		{"240.0.0.1", false}, {"255.255.255.255", false},
		{"::", false}, {"::1", false}, {"::127.0.0.1", false}, {"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false}, {"64:ff9b::a9fe:a9fe", false}, {"64:ff9b:1::1", false}, {"100::1", false},
		{"2001::1", false}, {"2001:2::1", false}, {"2001:10::1", false}, {"2001:db8::1", false}, {"2002:a9fe:a9fe::1", false},
		{"2620:4f:8000::1", false}, {"3fff::1", false}, {"5f00::1", false}, {"fc00::1", false}, {"fd12:3456::1", false},
		{"fe80::1", false}, {"fe80::1%eth0", false}, {"fec0::1", false}, {"ff02::1", false},
		{"203.0.114.7", false}, {"::ffff:203.0.114.7", false}, {"2a01:4f8::7", false}, // the host's own
	} {
		if got := signing.WebhookAddressAllowed(netip.MustParseAddr(tc.addr), own); got != tc.want {
			t.Errorf("%s: allowed %v, want %v", tc.addr, got, tc.want)
		}
	}
}

// The dial-time check refuses the host's own non-loopback addresses too (an integrator naming the service's
// public address), and a name that resolves to a special-purpose address: such a delivery is given up at once.
func TestWebhookRefusesHostAddressesAtDial(t *testing.T) {
	addrs, _ := net.InterfaceAddrs()
	var target string
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && !p.Addr().IsLoopback() && p.Addr().Is4() {
			target = p.Addr().String()
			break
		}
	}
	if target == "" {
		t.Skip("no non-loopback IPv4 interface address on this host")
	}
	ln, err := net.Listen("tcp", target+":0")
	if err != nil {
		t.Skip(err)
	}
	hit := make(chan bool, 2)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit <- true })}}
	srv.Start()
	defer srv.Close()
	e := newEnv(t)
	d := e.withDeliverer(signing.WebhookOptions{})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	now := e.clock.Now()
	if err := e.db.Update(ctx, func(tx *store.Tx) error {
		for i, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
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
	if n, err := d.DeliverDue(ctx); n != 0 || err != nil {
		t.Errorf("delivered %d (%v)", n, err)
	}
	select {
	case <-hit:
		t.Error("the webhook reached the host's own address")
	default:
	}
	if owed := e.owed(t); len(owed) != 0 {
		t.Errorf("refused addresses are retried: %+v", owed)
	}
}

// hook is one notification a receiver got.
type hook struct {
	path, delivery, request string
	payload                 signing.WebhookPayload
}

// receiver is an integrator's webhook endpoint: it records every POST and answers what status says (200 when nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []hook
	status func(h hook, nth int) int
	seen   chan struct{}
}

func newReceiver(t *testing.T, status func(h hook, nth int) int) *receiver {
	r := &receiver{status: status, seen: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := hook{path: req.URL.Path, delivery: req.Header.Get(signing.HeaderDelivery), request: req.Header.Get(signing.HeaderRequest)}
		json.NewDecoder(req.Body).Decode(&h.payload) //nolint:errcheck
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
		r.seen <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) hooks() []hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// withDeliverer replaces the env's flow by one recording durable webhooks, delivered by the returned Deliverer
// (not running: tests call DeliverDue, or Run it).
func (e *env) withDeliverer(o signing.WebhookOptions) *signing.Deliverer {
	if o.Clock == nil {
		o.Clock = e.clock
	}
	d := signing.NewDeliverer(e.db, o)
	e.sign = signing.New(e.db, e.profiles, e.seal, signing.Options{Clock: e.clock, Webhooks: d,
		Notify: func(context.Context, signing.Request) { e.notified.Add(1) }})
	return d
}

func (e *env) owed(t *testing.T) []store.WebhookDelivery {
	t.Helper()
	var out []store.WebhookDelivery
	if err := e.db.View(ctx, func(tx *store.Tx) (err error) { out, err = tx.WebhookDeliveries(0); return err }); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) submitHook(t *testing.T, clientID, base string) signing.Request {
	t.Helper()
	r, err := e.sign.Submit(ctx, clientID, signing.Submission{Document: []byte(prescription), FileName: "recepta.xml", Webhook: true,
		SuccessURL: base + "/ok?token=s3cret", FailureURL: base + "/fail?token=s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDelivererDurable: the end of a request with Webhook set records the delivery it owes in the same
// transaction (it is in the store before anything is posted); the Deliverer posts it once, with the delivery and
// request ids in headers, to the success URL when signed and the failure URL otherwise, and forgets it.
func TestDelivererDurable(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t, nil)
	d := e.withDeliverer(signing.WebhookOptions{AllowPrivate: true})
	anna := e.holder(t, "anna", "44051401359")
	signed, cancelled := e.submitHook(t, "client-1", rx.URL), e.submitHook(t, "client-1", rx.URL)
	quiet, err := e.sign.Submit(ctx, "client-1", signing.Submission{Document: []byte(prescription), FileName: "r.xml",
		SuccessURL: rx.URL + "/ok", FailureURL: rx.URL + "/fail"}) // no webhook asked for
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sign.RequestCode(ctx, anna, signed.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sign.Confirm(ctx, anna, signed.ID, e.code(t, "anna")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sign.Cancel(ctx, anna, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	expired := e.submitHook(t, "client-1", rx.URL)
	e.clock.Add(2 * time.Hour)
	if n, _, err := e.sign.Sweep(ctx, time.Hour); err != nil || n != 2 { // expired and quiet
		t.Fatalf("sweep: %d %v", n, err)
	}
	owed := e.owed(t)
	if len(owed) != 3 || len(rx.hooks()) != 0 {
		t.Fatalf("%d deliveries owed after three webhook requests ended (%d posted already)", len(owed), len(rx.hooks()))
	}
	if n, err := d.DeliverDue(ctx); err != nil || n != 3 {
		t.Fatalf("delivered %d: %v", n, err)
	}
	want := map[string]string{signed.ID: "/ok signed", cancelled.ID: "/fail cancelled", expired.ID: "/fail expired"}
	ids := map[string]bool{}
	for _, h := range rx.hooks() {
		if want[h.request] != h.path+" "+h.payload.Status || h.payload.ID != h.request || h.delivery == "" || ids[h.delivery] {
			t.Errorf("notification %+v", h)
		}
		ids[h.delivery] = true
		delete(want, h.request)
	}
	if len(want) != 0 || len(rx.hooks()) != 3 {
		t.Errorf("not notified: %v (got %d, and none for %s)", want, len(rx.hooks()), quiet.ID)
	}
	if owed := e.owed(t); len(owed) != 0 {
		t.Errorf("still owed after delivery: %+v", owed)
	}
	if n, err := d.DeliverDue(ctx); err != nil || n != 0 {
		t.Errorf("delivered again: %d %v", n, err)
	}
}

// TestDelivererRetries: a receiver answering 500 gets the same delivery again after the backoff (not before);
// one that never answers 2xx is given up after Attempts, with a log line and an audit record that do not carry
// the URL (its query may hold a secret).
func TestDelivererRetries(t *testing.T) {
	e := newEnv(t)
	failing := map[string]bool{}
	var fmu sync.Mutex
	rx := newReceiver(t, func(h hook, nth int) int {
		fmu.Lock()
		defer fmu.Unlock()
		if failing[h.request] || nth == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	var logs bytes.Buffer
	d := e.withDeliverer(signing.WebhookOptions{AllowPrivate: true, Attempts: 3, Backoff: time.Minute,
		Logger: slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil))})
	anna := e.holder(t, "anna", "44051401359")
	flaky, dead := e.submitHook(t, "client-1", rx.URL), e.submitHook(t, "client-1", rx.URL)
	fmu.Lock()
	failing[dead.ID] = true
	fmu.Unlock()
	for _, r := range []signing.Request{flaky, dead} {
		if _, err := e.sign.Cancel(ctx, anna, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := d.DeliverDue(ctx); err != nil || n != 0 {
		t.Fatalf("first round delivered %d: %v", n, err)
	}
	for _, o := range e.owed(t) {
		if o.Attempts != 1 || !o.ClaimedUntil.IsZero() || o.LastError != "webhook: answered 500" || !o.Due.Equal(e.clock.Now().Add(time.Minute)) {
			t.Errorf("after a 500: %+v", o)
		}
	}
	e.clock.Add(59 * time.Second)
	if n, _ := d.DeliverDue(ctx); n != 0 || len(rx.hooks()) != 2 {
		t.Fatalf("retried before the backoff: %d posts", len(rx.hooks()))
	}
	e.clock.Add(time.Second)
	if n, err := d.DeliverDue(ctx); err != nil || n != 1 {
		t.Fatalf("the retry delivered %d: %v", n, err)
	}
	first := map[string]string{}
	for _, h := range rx.hooks() {
		if id, ok := first[h.request]; ok && id != h.delivery {
			t.Errorf("the retry of %s changed the delivery id %s to %s", h.request, id, h.delivery)
		}
		first[h.request] = h.delivery
	}
	e.clock.Add(time.Minute) // the dead receiver's third attempt is due two minutes after its second
	if n, _ := d.DeliverDue(ctx); n != 0 || len(e.owed(t)) != 1 {
		t.Fatalf("the third attempt came early (%d owed)", len(e.owed(t)))
	}
	e.clock.Add(time.Minute)
	d.DeliverDue(ctx) //nolint:errcheck
	if owed := e.owed(t); len(owed) != 0 {
		t.Fatalf("still owed after %d attempts: %+v", 3, owed)
	}
	posts := 0
	for _, h := range rx.hooks() {
		if h.request == dead.ID {
			posts++
		}
	}
	if posts != 3 {
		t.Errorf("the failing receiver got %d attempts, want 3", posts)
	}
	var exported strings.Builder
	if _, err := audit.Export(ctx, e.db, &exported); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(exported.String(), `"kind":"webhook.failed"`); n != 1 || !strings.Contains(exported.String(), dead.ID) {
		t.Errorf("%d webhook.failed audit records", n)
	}
	if !strings.Contains(logs.String(), "webhook given up") {
		t.Errorf("no log line for the given-up delivery:\n%s", logs.String())
	}
	for _, text := range []string{logs.String(), exported.String()} {
		if strings.Contains(text, "s3cret") {
			t.Errorf("the webhook URL's query is in the log or the audit log")
		}
	}
}

// TestDelivererKickedAfterCommit: a running Deliverer posts a delivery as soon as the flow commits it, without
// waiting for its poll (an hour here).
func TestDelivererKickedAfterCommit(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t, nil)
	d := e.withDeliverer(signing.WebhookOptions{AllowPrivate: true, Poll: time.Hour})
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.Run(run); close(done) }()
	defer func() { stop(); <-done }()
	anna := e.holder(t, "anna", "44051401359")
	for range 3 {
		r := e.submitHook(t, "client-1", rx.URL)
		if _, err := e.sign.Cancel(ctx, anna, r.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case <-rx.seen:
		case <-time.After(30 * time.Second):
			t.Fatal("the committed delivery was not posted: the deliverer was not kicked")
		}
	}
}

// TestDelivererDisabledClient: a disabled integrator is sent nothing: a delivery owed when the client is disabled
// is dropped unposted.
func TestDelivererDisabledClient(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t, nil)
	d := e.withDeliverer(signing.WebhookOptions{AllowPrivate: true})
	anna := e.holder(t, "anna", "44051401359")
	c, _, err := e.profiles.CreateClient(ctx, "apteka", []profile.Scope{profile.ScopeSign})
	if err != nil {
		t.Fatal(err)
	}
	r := e.submitHook(t, c.ID, rx.URL)
	if _, err := e.sign.Cancel(ctx, anna, r.ID); err != nil {
		t.Fatal(err)
	}
	if len(e.owed(t)) != 1 {
		t.Fatal("no delivery owed for an enabled client's request")
	}
	if err := e.profiles.DisableClient(ctx, "test", c.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := d.DeliverDue(ctx); err != nil || n != 0 || len(rx.hooks()) != 0 || len(e.owed(t)) != 0 {
		t.Fatalf("a disabled client's delivery: delivered %d (%v), posted %d, owed %d", n, err, len(rx.hooks()), len(e.owed(t)))
	}
	late := e.submitHook(t, c.ID, rx.URL) // filed before the key stopped working
	e.clock.Add(2 * time.Hour)
	if n, _, err := e.sign.Sweep(ctx, time.Hour); err != nil || n != 1 {
		t.Fatalf("sweep of %s: %d %v", late.ID, n, err)
	}
	if len(e.owed(t)) != 0 {
		t.Error("a delivery was recorded for a disabled client's request")
	}
}

// TestDelivererRefusesPrivateAddresses: the Deliverer's default client refuses a loopback receiver at dial time
// and gives the delivery up at once (no retry can change the address).
func TestDelivererRefusesPrivateAddresses(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t, nil)
	d := e.withDeliverer(signing.WebhookOptions{})
	anna := e.holder(t, "anna", "44051401359")
	r := e.submitHook(t, "client-1", rx.URL)
	if _, err := e.sign.Cancel(ctx, anna, r.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := d.DeliverDue(ctx); n != 0 || len(rx.hooks()) != 0 {
		t.Fatal("the webhook reached a loopback address")
	}
	if owed := e.owed(t); len(owed) != 0 {
		t.Errorf("a refused address is retried: %+v", owed)
	}
}

// syncWriter serialises the log writes of concurrent attempts.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
