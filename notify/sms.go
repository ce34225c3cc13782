package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// SMSGatewayOptions configures an HTTP SMS gateway.
type SMSGatewayOptions struct {
	// URL receives a JSON POST: {"to": "+48...", "text": "...", "sender": "...", "reference": "..."}.
	URL string
	// Token, if set, is sent as "Authorization: Bearer <Token>".
	Token string
	// Sender is the alphanumeric sender id (e.g. "PZ").
	Sender string
	// Client is the HTTP client (default: 10 s timeout).
	Client *http.Client
}

// SMSGateway posts SMS messages to an HTTP gateway. A 2xx answer is success; 4xx is ErrRejected; anything else
// (5xx, network errors) is ErrUnavailable. The reference is the message's idempotency key (header
// Idempotency-Key too) so a gateway can drop duplicates.
type SMSGateway struct {
	o SMSGatewayOptions
}

// NewSMSGateway checks the options.
func NewSMSGateway(o SMSGatewayOptions) (*SMSGateway, error) {
	if o.URL == "" {
		return nil, errors.New("notify: SMS gateway needs a URL")
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &SMSGateway{o: o}, nil
}

type smsRequest struct {
	To        string `json:"to"`
	Text      string `json:"text"`
	Sender    string `json:"sender,omitempty"`
	Reference string `json:"reference"`
}

// Send implements Sender for SMS messages.
func (g *SMSGateway) Send(ctx context.Context, m Message) error {
	if m.Channel != SMS {
		return fmt.Errorf("%w: the SMS gateway sends SMS only", ErrNoRoute)
	}
	var rb [12]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	ref := hex.EncodeToString(rb[:])
	body, _ := json.Marshal(smsRequest{To: m.To, Text: m.Body, Sender: g.o.Sender, Reference: ref})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.o.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", ref)
	if g.o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.o.Token)
	}
	resp, err := g.o.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return fmt.Errorf("%w: gateway answered %d", ErrRejected, resp.StatusCode)
	}
	return fmt.Errorf("%w: gateway answered %d", ErrUnavailable, resp.StatusCode)
}
