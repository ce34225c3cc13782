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
	"strings"
	"syscall"
	"time"
)

// WebhookOptions configure WebhookNotifier.
type WebhookOptions struct {
	// Client sends the notifications (default: 10 s timeout, no redirects, private addresses refused).
	Client *http.Client
	// AllowPrivate lets notifications reach loopback, private and every other special-purpose address, and the
	// host's own addresses (tests, single-host setups).
	AllowPrivate bool
	// Attempts per notification (default 3), with Backoff doubling between them (default 1 s).
	Attempts int
	Backoff  time.Duration
	Logger   *slog.Logger
}

// WebhookPayload is the body of a notification. It says only what happened: an integrator fetches the status and
// the document through the authenticated API, so a forged notification achieves nothing.
type WebhookPayload struct {
	ID       string     `json:"id"`
	BatchID  string     `json:"batchId,omitempty"`
	Status   string     `json:"status"`
	SignedAt *time.Time `json:"signedAt,omitempty"`
}

var errPrivateAddress = errors.New("webhook: special-purpose addresses (private, loopback, link-local, shared, documentation, translation …) and the host's own addresses are not notified")

// WebhookNotifier returns an Options.Notify function that POSTs a WebhookPayload to the request's SuccessURL when
// it was signed, or its FailureURL otherwise, for requests submitted with Webhook set. Delivery is asynchronous
// and retried; failures are logged, never returned.
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
	client := o.Client
	if client == nil {
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
		client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext,
			TLSHandshakeTimeout: 5 * time.Second, MaxIdleConns: 16, IdleConnTimeout: 30 * time.Second},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return func(_ context.Context, r Request) {
		if !r.Webhook {
			return
		}
		target := r.FailureURL
		if r.Status == "signed" {
			target = r.SuccessURL
		}
		if target == "" {
			return
		}
		body, _ := json.Marshal(WebhookPayload{ID: r.ID, BatchID: r.BatchID, Status: r.Status, SignedAt: r.SignedAt})
		go func() {
			wait := o.Backoff
			for i := 1; i <= o.Attempts; i++ {
				err := postOnce(client, target, r.ID, body)
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

func postOnce(c *http.Client, target, id string, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "trustsign-webhook/1")
	req.Header.Set("X-Trustsign-Request", id)
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
