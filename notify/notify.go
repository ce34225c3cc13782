// Package notify delivers messages to profile holders: one-time codes and notices, by e-mail or SMS. Sender is
// the one interface; Outbox writes each message as an RFC 5322 file (the development default, SMS included),
// SMTP sends e-mail through a real server (wneessen/go-mail), SMSGateway posts SMS to an HTTP gateway, Router picks
// a sender by channel, and Recorder keeps messages in memory for tests and load drivers.
//
// It composes no texts (package profile writes the Polish messages) and retries nothing: a failed delivery is
// returned to the caller, who decides (for codes: the holder asks for a new one).
package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Channel is a delivery channel.
type Channel string

// Channels.
const (
	SMS   Channel = "sms"
	Email Channel = "email"
)

// Message is one message to one recipient.
type Message struct {
	// To is an e-mail address (Email) or a phone number in E.164 form (SMS).
	To      string
	Channel Channel
	// Subject is used for e-mail (and as a header in the outbox).
	Subject string
	Body    string
	// Code, when the message carries a one-time code, repeats it for development tooling: Outbox writes it on its
	// own line "Code: NNNNNN". Real channels send only Body (which contains the code).
	Code string
}

// Sender delivers a message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

var (
	// ErrNoRoute: no sender is configured for the message's channel.
	ErrNoRoute = errors.New("notify: no sender for this channel")
	// ErrRejected: the gateway or server refused the message (bad recipient, policy).
	ErrRejected = errors.New("notify: message rejected")
	// ErrUnavailable: the gateway or server could not be reached or failed temporarily.
	ErrUnavailable = errors.New("notify: delivery service unavailable")
)

// Router sends each message through the sender of its channel.
type Router struct {
	Email Sender
	SMS   Sender
}

// Send implements Sender.
func (r Router) Send(ctx context.Context, m Message) error {
	var s Sender
	switch m.Channel {
	case Email:
		s = r.Email
	case SMS:
		s = r.SMS
	}
	if s == nil {
		return fmt.Errorf("%w: %q", ErrNoRoute, m.Channel)
	}
	return s.Send(ctx, m)
}

// Recorder keeps sent messages in memory (tests, load drivers that read codes without files).
type Recorder struct {
	mu   sync.Mutex
	msgs []Message
	// Err, if set, is returned by Send (the message is not kept).
	Err error
}

// Send implements Sender.
func (r *Recorder) Send(ctx context.Context, m Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Err != nil {
		return r.Err
	}
	r.msgs = append(r.msgs, m)
	return nil
}

// Messages returns a copy of every message kept.
func (r *Recorder) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.msgs...)
}

// Last returns the newest message to a recipient.
func (r *Recorder) Last(to string) (Message, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.msgs) - 1; i >= 0; i-- {
		if r.msgs[i].To == to {
			return r.msgs[i], true
		}
	}
	return Message{}, false
}
