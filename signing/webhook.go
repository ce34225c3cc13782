package signing

import (
	"bytes"
	"context"
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
	"syscall"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
)

// WebhookOptions configure the Deliverer.
type WebhookOptions struct {
	// Client sends the notifications (default: 10 s timeout, no redirects, private addresses refused).
	Client *http.Client
	// AllowPrivate lets notifications reach loopback, private and every other special-purpose address, and the
	// host's own addresses (tests, single-host setups).
	AllowPrivate bool
	// Attempts per notification (default 8), with Backoff doubling between them (default 5 s: about ten minutes in
	// all).
	Attempts int
	Backoff  time.Duration
	Logger   *slog.Logger
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

func hostOf(target string) string {
	if u, err := url.Parse(target); err == nil {
		return u.Host
	}
	return ""
}

// redactURL removes the target URL from an error text. net/http's *url.Error quotes the URL as it re-serialises
// it (scheme lower-cased, a password masked, the path re-escaped), which need not be target as submitted: its
// cause, which names at most the host, is kept instead.
func redactURL(err error, target string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
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
// Deliverer on the shared store: it claims a batch of due deliveries in a transaction (each claimed for
// WebhookOptions.Claim, so two nodes never post one at the same time), POSTs them outside it, and then deletes the
// delivered ones, or makes a failed one due again after a backoff that doubles, up to Attempts; then it gives up
// with a log line and a "webhook.failed" audit record. A special-purpose address is given up at once. Delivery is
// at least once (see HeaderDelivery). The notifications of a client disabled meanwhile are dropped, not sent.
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

// DeliverDue claims and posts the deliveries due now, up to Concurrency at a time, until none is left due and none
// is in flight; it returns how many were delivered. A slot is refilled as soon as its attempt ends, so one slow
// receiver (it may take the client's whole time-out, on every attempt) holds one slot, not the node's other
// deliveries. Each claim costs a transaction (it also drops the deliveries of disabled clients), and so does each
// recording of the outcomes that ended meanwhile (delivered ones deleted, failed ones rescheduled or given up).
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	delivered, inFlight := 0, 0
	results := make(chan outcome, d.o.Concurrency)
	more := true // the last claim filled every free slot, or a kick or a poll came since: more may be due
	var err error
	var ended []outcome
	poll := time.NewTicker(d.o.Poll)
	defer poll.Stop()
	for {
		if more && err == nil && ctx.Err() == nil && inFlight < d.o.Concurrency {
			var claimed []store.WebhookDelivery
			free := d.o.Concurrency - inFlight
			var taken int
			claimed, taken, err = d.claim(ctx, free)
			more = err == nil && taken == free
			for _, c := range claimed {
				inFlight++
				go func() { results <- d.attempt(ctx, c) }()
			}
		}
		if inFlight == 0 {
			break
		}
		select {
		case o := <-results:
			inFlight--
			ended = append(ended[:0], o)
		collect:
			for {
				select {
				case o := <-results:
					inFlight--
					ended = append(ended, o)
				default:
					break collect
				}
			}
			// the outcome is recorded even when ctx ends meanwhile (shutdown): one store round trip
			delivered += d.record(context.WithoutCancel(ctx), ended)
			more = more || len(ended) > 0 // a slot is free again: look for what fell due meanwhile
		case <-d.kick:
			more = true
		case <-poll.C:
			more = true
		}
	}
	if err != nil {
		return delivered, err
	}
	return delivered, ctx.Err()
}

// claim claims up to n deliveries due now and returns the ones to post, and how many it took from the queue (those
// of disabled clients are dropped instead).
func (d *Deliverer) claim(ctx context.Context, n int) ([]store.WebhookDelivery, int, error) {
	now := d.o.Clock.Now()
	var claimed, dropped []store.WebhookDelivery
	taken := 0
	if err := d.db.Update(ctx, func(tx *store.Tx) error {
		claimed, dropped = claimed[:0], dropped[:0]
		list, err := tx.ClaimWebhookDeliveries(now, now.Add(d.o.Claim), n)
		if err != nil {
			return err
		}
		taken = len(list)
		for _, c := range list {
			cl, err := tx.GetClient(c.ClientID)
			switch {
			case err == nil && cl.Disabled:
				// a disabled integrator is sent nothing
				if err := tx.DeleteWebhookDelivery(c.ID); err != nil {
					return err
				}
				dropped = append(dropped, c)
				continue
			case err != nil && !errors.Is(err, store.ErrNotFound): // the demo integrator is not in the store
				return err
			}
			claimed = append(claimed, c)
		}
		return nil
	}); err != nil {
		return nil, 0, err
	}
	for _, c := range dropped {
		d.logger(c).Info("webhook dropped: the integrator's client was disabled")
	}
	return claimed, taken, nil
}

func (d *Deliverer) logger(c store.WebhookDelivery) *slog.Logger {
	return d.o.Logger.With("request", c.RequestID, "delivery", c.ID, "attempt", c.Attempts, "host", hostOf(c.URL))
}

// outcome is what became of one attempt.
type outcome struct {
	c      store.WebhookDelivery
	ok     bool      // delivered
	giveUp bool      // failed for the last time
	due    time.Time // otherwise: when to try again
	reason string    // why it failed (no URL in it)
}

// attempt posts one claimed delivery.
func (d *Deliverer) attempt(ctx context.Context, c store.WebhookDelivery) outcome {
	err := postOnce(ctx, d.client, c.URL, c.RequestID, c.ID, c.Body)
	if err == nil {
		return outcome{c: c, ok: true}
	}
	// the error text may carry the integrator's URL (and whatever its query holds): log the host only
	o := outcome{c: c, reason: redactURL(err, c.URL)}
	d.logger(c).Warn("webhook delivery failed", "error", o.reason)
	switch {
	case ctx.Err() != nil:
		o.due = d.o.Clock.Now() // shutting down: another node may take it now
	case errors.Is(err, errPrivateAddress) || c.Attempts >= d.o.Attempts:
		o.giveUp = true
	default:
		o.due = d.o.Clock.Now().Add(d.o.Backoff << min(c.Attempts-1, 20))
	}
	return o
}

// record stores the outcomes of a batch in one transaction: a delivered one is deleted; a failed one is due again
// later, or given up with a "webhook.failed" audit record, as long as the claim is still this attempt's (when it
// ran out and another node claimed the delivery, that node decides). It returns how many were delivered. When the
// transaction fails, the deliveries stay claimed until their claims run out, and are then posted again (at least
// once).
func (d *Deliverer) record(ctx context.Context, outcomes []outcome) int {
	if len(outcomes) == 0 {
		return 0
	}
	var gaveUp []outcome
	err := d.db.Update(ctx, func(tx *store.Tx) error {
		gaveUp = gaveUp[:0]
		for _, o := range outcomes {
			if o.ok {
				if err := tx.DeleteWebhookDelivery(o.c.ID); err != nil {
					return err
				}
				continue
			}
			cur, err := tx.WebhookDelivery(o.c.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !cur.ClaimedUntil.Equal(o.c.ClaimedUntil) {
				continue // another node's now
			}
			if !o.giveUp {
				if err := tx.RescheduleWebhookDelivery(o.c.ID, o.c.ClaimedUntil, o.due, o.reason); err != nil {
					return err
				}
				continue
			}
			if err := tx.DeleteWebhookDelivery(o.c.ID); err != nil {
				return err
			}
			if err := tx.Audit(audit.Event{Time: d.o.Clock.Now(), Kind: "webhook.failed", Actor: "system", Subject: o.c.RequestID,
				Details: map[string]string{"delivery": o.c.ID, "client": o.c.ClientID, "host": hostOf(o.c.URL),
					"attempts": strconv.Itoa(o.c.Attempts), "error": o.reason}}); err != nil {
				return err
			}
			gaveUp = append(gaveUp, o)
		}
		return nil
	})
	if err != nil {
		d.o.Logger.Error("webhook outcomes not recorded: the claims run out and the deliveries are posted again", "error", err.Error())
		return 0
	}
	for _, o := range gaveUp {
		d.logger(o.c).Error("webhook given up", "error", o.reason)
	}
	n := 0
	for _, o := range outcomes {
		if o.ok {
			n++
		}
	}
	return n
}
