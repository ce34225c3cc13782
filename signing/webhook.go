package signing

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
)

// WebhookOptions configure the Deliverer (and WebhookNotifier).
type WebhookOptions struct {
	// Client sends the notifications (default: 10 s timeout, no redirects, private addresses refused).
	Client *http.Client
	// AllowPrivate lets notifications reach loopback, private and every other special-purpose address, and the
	// host's own addresses (tests, single-host setups).
	AllowPrivate bool
	// Attempts per notification, with Backoff doubling between them (Deliverer: 8 attempts from 5 s, about ten
	// minutes in all; WebhookNotifier: 3 from 1 s).
	Attempts int
	Backoff  time.Duration
	Logger   *slog.Logger

	// The Deliverer's own settings.

	// Clock tells the time deliveries are due and claimed by (system time when nil).
	Clock Clock
	// Poll is how often a Deliverer looks for deliveries it was not kicked for: owed by another node, retries,
	// claims that ran out (default 5 s).
	Poll time.Duration
	// Claim is how long an attempt keeps a delivery from the other nodes (default 1 minute; it must outlast one
	// POST, 15 s at most): a node that dies while posting leaves the delivery due again when its claim runs out.
	Claim time.Duration
	// Concurrency bounds the POSTs a Deliverer makes at once (default 8).
	Concurrency int
}

// WebhookPayload is the body of a notification. It says only what happened: an integrator fetches the status and
// the document through the authenticated API, so a forged notification achieves nothing.
type WebhookPayload struct {
	ID       string     `json:"id"`
	BatchID  string     `json:"batchId,omitempty"`
	Status   string     `json:"status"`
	SignedAt *time.Time `json:"signedAt,omitempty"`
}

// Webhook request headers. A notification is delivered at least once: a node that dies after the integrator
// answered but before it recorded the delivery, or whose claim runs out while the integrator is slow, leaves it
// to be sent again, with the same X-Trustsign-Delivery, which integrators deduplicate on.
const (
	HeaderDelivery = "X-Trustsign-Delivery" // the delivery's id, the same on every attempt
	HeaderRequest  = "X-Trustsign-Request"  // the signing request's id
)

var errPrivateAddress = errors.New("webhook: special-purpose addresses (private, loopback, link-local, shared, documentation, translation …) and the host's own addresses are not notified")

// webhookClient is the HTTP client of the notifications: no redirects, timeouts, and (unless AllowPrivate) a dial
// that refuses special-purpose and the host's own addresses.
func webhookClient(o WebhookOptions) *http.Client {
	if o.Client != nil {
		return o.Client
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !o.AllowPrivate {
		// checked on the address actually dialled, so DNS rebinding cannot slip past it
		own := &hostAddresses{}
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !webhookAddressAllowed(ap.Addr(), own.get()) {
				return errPrivateAddress
			}
			return nil
		}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext,
		TLSHandshakeTimeout: 5 * time.Second, MaxIdleConns: 16, IdleConnTimeout: 30 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// webhookTarget is the URL a finished request notifies (SuccessURL when signed, FailureURL otherwise) and the body,
// or "" when the request asked for no notification.
func webhookTarget(id, batchID, status string, signedAt *time.Time, webhook bool, successURL, failureURL string) (string, []byte) {
	if !webhook {
		return "", nil
	}
	target := failureURL
	if status == store.RequestSigned {
		target = successURL
	}
	if target == "" {
		return "", nil
	}
	body, _ := json.Marshal(WebhookPayload{ID: id, BatchID: batchID, Status: status, SignedAt: signedAt})
	return target, body
}

// WebhookNotifier returns an Options.Notify function that POSTs a WebhookPayload to the request's SuccessURL when
// it was signed, or its FailureURL otherwise, for requests submitted with Webhook set, from a goroutine with
// retries. Nothing durable records it: a process that stops loses the notifications in flight. `trustsign serve`
// uses the Deliverer (Options.Webhooks) instead; this is for tests and tools within one process.
func WebhookNotifier(o WebhookOptions) func(context.Context, Request) {
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	client := webhookClient(o)
	return func(_ context.Context, r Request) {
		target, body := webhookTarget(r.ID, r.BatchID, r.Status, r.SignedAt, r.Webhook, r.SuccessURL, r.FailureURL)
		if target == "" {
			return
		}
		var rnd [16]byte
		rand.Read(rnd[:]) //nolint:errcheck // crypto/rand does not fail
		delivery := hex.EncodeToString(rnd[:])
		go func() {
			wait := o.Backoff
			for i := 1; i <= o.Attempts; i++ {
				err := postOnce(context.Background(), client, target, r.ID, delivery, body)
				if err == nil {
					return
				}
				// the error text may carry the integrator's URL (and whatever its query holds): log the host only
				o.Logger.Warn("webhook delivery failed", "request", r.ID, "attempt", i, "host", hostOf(target), "error", redactURL(err, target))
				if errors.Is(err, errPrivateAddress) || i == o.Attempts {
					return
				}
				time.Sleep(wait)
				wait *= 2
			}
		}()
	}
}

func hostOf(target string) string {
	if u, err := url.Parse(target); err == nil {
		return u.Host
	}
	return ""
}

// redactURL removes the target URL from an error text.
func redactURL(err error, target string) string {
	return strings.ReplaceAll(err.Error(), target, "<webhook URL>")
}

func postOnce(ctx context.Context, c *http.Client, target, requestID, deliveryID string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "trustsign-webhook/1")
	req.Header.Set(HeaderRequest, requestID)
	req.Header.Set(HeaderDelivery, deliveryID)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook: answered %d", resp.StatusCode)
	}
	return nil
}

// DeliveryStore is what the Deliverer needs from storage (*store.DB, any backend).
type DeliveryStore interface {
	View(ctx context.Context, fn func(*store.Tx) error) error
	Update(ctx context.Context, fn func(*store.Tx) error) error
}

// Deliverer posts the webhook notifications owed in the store: the signing flow records one (Options.Webhooks) in
// the transaction that ends a request, so a notification survives the node that committed it. Every node runs a
// Deliverer on the shared store: each attempt claims its delivery in a transaction (so two nodes never post one at
// the same time), POSTs outside it, and then deletes it, or on failure makes it due again after a backoff that
// doubles, up to Attempts; then it gives up with a log line and a "webhook.failed" audit record. A special-purpose
// address is given up at once. Delivery is at least once (see HeaderDelivery). The notifications of a client
// disabled meanwhile are dropped, not sent.
type Deliverer struct {
	db     DeliveryStore
	o      WebhookOptions
	client *http.Client
	kick   chan struct{}
}

// NewDeliverer returns a Deliverer over db. Run it; Kick it after committing a delivery.
func NewDeliverer(db DeliveryStore, o WebhookOptions) *Deliverer {
	if o.Attempts <= 0 {
		o.Attempts = 8
	}
	if o.Backoff <= 0 {
		o.Backoff = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Claim <= 0 {
		o.Claim = time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	return &Deliverer{db: db, o: o, client: webhookClient(o), kick: make(chan struct{}, 1)}
}

// Kick makes Run look for due deliveries now (a delivery was just committed) instead of at its next poll.
func (d *Deliverer) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers what is due, whenever kicked, when the next delivery owed falls due and at least every Poll, until
// ctx is done. An attempt running then is cut short and left due again at once.
func (d *Deliverer) Run(ctx context.Context) {
	for {
		wait := d.o.Poll
		if _, err := d.DeliverDue(ctx); err != nil {
			if ctx.Err() == nil {
				d.o.Logger.Error("webhook deliveries", "error", err.Error())
			}
		} else {
			// the next delivery owed may fall due before the next poll (a retry, a claim that runs out)
			var next time.Time
			if err := d.db.View(ctx, func(tx *store.Tx) (err error) { next, err = tx.NextWebhookDue(); return err }); err == nil {
				wait = min(wait, max(next.Sub(d.o.Clock.Now()), 10*time.Millisecond))
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// DeliverDue claims and posts the deliveries due now, a batch of Concurrency at a time, until none is left due; it
// returns how many were delivered.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	delivered := 0
	for ctx.Err() == nil {
		now := d.o.Clock.Now()
		var claimed []store.WebhookDelivery
		if err := d.db.Update(ctx, func(tx *store.Tx) (err error) {
			claimed, err = tx.ClaimWebhookDeliveries(now, now.Add(d.o.Claim), d.o.Concurrency)
			return err
		}); err != nil {
			return delivered, err
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range claimed {
			wg.Go(func() {
				if d.attempt(ctx, c) {
					mu.Lock()
					delivered++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(claimed) < d.o.Concurrency {
			break
		}
	}
	return delivered, ctx.Err()
}

// attempt posts one claimed delivery and records the outcome; true when it was delivered.
func (d *Deliverer) attempt(ctx context.Context, c store.WebhookDelivery) bool {
	log := d.o.Logger.With("request", c.RequestID, "delivery", c.ID, "attempt", c.Attempts, "host", hostOf(c.URL))
	// the outcome is recorded even when ctx ends meanwhile (shutdown): a few store round trips
	bg := context.WithoutCancel(ctx)
	disabled := false
	if err := d.db.View(ctx, func(tx *store.Tx) error {
		cl, err := tx.GetClient(c.ClientID)
		disabled = err == nil && cl.Disabled
		if errors.Is(err, store.ErrNotFound) {
			err = nil // the demo integrator is not in the store
		}
		return err
	}); err != nil {
		d.reschedule(bg, log, c, d.o.Clock.Now().Add(d.o.Backoff), err.Error())
		return false
	}
	if disabled {
		log.Info("webhook dropped: the integrator's client was disabled")
		d.forget(bg, log, c)
		return false
	}
	err := postOnce(ctx, d.client, c.URL, c.RequestID, c.ID, c.Body)
	if err == nil {
		d.forget(bg, log, c)
		return true
	}
	// the error text may carry the integrator's URL (and whatever its query holds): log the host only
	reason := redactURL(err, c.URL)
	log.Warn("webhook delivery failed", "error", reason)
	switch {
	case ctx.Err() != nil:
		d.reschedule(bg, log, c, d.o.Clock.Now(), reason) // shutting down: another node may take it now
	case errors.Is(err, errPrivateAddress) || c.Attempts >= d.o.Attempts:
		d.giveUp(bg, log, c, reason)
	default:
		wait := d.o.Backoff << min(c.Attempts-1, 20)
		d.reschedule(bg, log, c, d.o.Clock.Now().Add(wait), reason)
	}
	return false
}

// forget removes a delivery that was made (or dropped).
func (d *Deliverer) forget(ctx context.Context, log *slog.Logger, c store.WebhookDelivery) {
	if err := d.db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteWebhookDelivery(c.ID) }); err != nil {
		// it stays owed: when the claim runs out it is sent again (at least once)
		log.Error("webhook delivered but not recorded", "error", err.Error())
	}
}

// reschedule makes a delivery due again at due, if the claim is still this attempt's.
func (d *Deliverer) reschedule(ctx context.Context, log *slog.Logger, c store.WebhookDelivery, due time.Time, reason string) {
	err := d.db.Update(ctx, func(tx *store.Tx) error { return tx.RescheduleWebhookDelivery(c.ID, c.ClaimedUntil, due, reason) })
	if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		log.Error("webhook retry not recorded", "error", err.Error())
	}
}

// giveUp removes a delivery that failed for the last time, with an audit record, if the claim is still this
// attempt's (otherwise another node is trying it).
func (d *Deliverer) giveUp(ctx context.Context, log *slog.Logger, c store.WebhookDelivery, reason string) {
	err := d.db.Update(ctx, func(tx *store.Tx) error {
		cur, err := tx.WebhookDelivery(c.ID)
		if err != nil {
			return err
		}
		if !cur.ClaimedUntil.Equal(c.ClaimedUntil) {
			return &store.ConflictError{What: "claim"}
		}
		if err := tx.DeleteWebhookDelivery(c.ID); err != nil {
			return err
		}
		return tx.Audit(audit.Event{Time: d.o.Clock.Now(), Kind: "webhook.failed", Actor: "system", Subject: c.RequestID,
			Details: map[string]string{"delivery": c.ID, "client": c.ClientID, "host": hostOf(c.URL),
				"attempts": strconv.Itoa(c.Attempts), "error": reason}})
	})
	switch {
	case err == nil:
		log.Error("webhook given up", "error", reason)
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
	default:
		log.Error("webhook give-up not recorded", "error", err.Error())
	}
}
