package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Clock tells the time; tests inject a fixed one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Outbox writes each message as one RFC 5322 file in a directory: the development default for every channel.
// Files appear whole (written to a temporary file, then renamed) under unique, time-sorted names
// (<UTC time>-<random>.eml). A message with a Code gets the line "Code: NNNNNN" after its body.
//
// Files are not fsynced. A message is a delivery, not a record: what it carries (a code's hash, a status change)
// is committed to the store before Send is called, and nothing records that a message arrived. A message lost in a
// crash is what an SMS lost on its way is to the service: the holder asks for another code. Readers never see a
// partial file while the system runs (the rename is atomic); after a power loss a file may be missing or empty,
// which is the same lost message. An fsync of the file and one of the directory per message (two disk flushes,
// milliseconds on a busy disk, competing with the store's own) would buy nothing the service relies on.
type Outbox struct {
	dir  string
	from string
	clk  Clock
	rnd  io.Reader
}

// OutboxOptions configures NewOutbox.
type OutboxOptions struct {
	// From is the sender address written in the From header (default "trustsign <no-reply@trustsign.invalid>").
	From  string
	Clock Clock
	// Rand makes unique file names and Message-IDs (crypto/rand when nil).
	Rand io.Reader
}

// NewOutbox creates the directory (mode 0700) if needed.
func NewOutbox(dir string, o OutboxOptions) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if o.From == "" {
		o.From = "trustsign <no-reply@trustsign.invalid>"
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return &Outbox{dir: dir, from: o.From, clk: o.Clock, rnd: o.Rand}, nil
}

// Dir returns the outbox directory.
func (o *Outbox) Dir() string { return o.dir }

func validHeader(s string) bool { return !strings.ContainsAny(s, "\r\n") }

// Format renders a message as RFC 5322 text (CRLF line ends, UTF-8 body sent 8bit, RFC 2047 subject).
func Format(m Message, from string, at time.Time, messageID string) ([]byte, error) {
	if m.To == "" || !validHeader(m.To) || !validHeader(m.Subject) || !validHeader(m.Code) {
		return nil, fmt.Errorf("%w: recipient or subject unusable", ErrRejected)
	}
	to := m.To
	if m.Channel == SMS {
		// A phone number is not an address; keep it readable and valid.
		to = "<" + strings.TrimPrefix(m.To, "+") + "@sms.invalid>"
	}
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", from)
	h("To", to)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", at.Format(time.RFC1123Z))
	h("Message-ID", "<"+messageID+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	h("X-Trustsign-Channel", string(m.Channel))
	if m.Channel == SMS {
		h("X-Trustsign-Phone", m.To)
	}
	b.WriteString("\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	if m.Code != "" {
		b.WriteString("\r\nCode: " + m.Code + "\r\n")
	}
	return b.Bytes(), nil
}

// Send implements Sender.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var rb [8]byte
	if _, err := io.ReadFull(o.rnd, rb[:]); err != nil {
		return fmt.Errorf("notify: randomness: %w", err)
	}
	now := o.clk.Now().UTC()
	id := hex.EncodeToString(rb[:])
	raw, err := Format(m, o.from, now, id+"@trustsign.invalid")
	if err != nil {
		return err
	}
	name := now.Format("20060102T150405.000000000Z") + "-" + id + ".eml"
	tmp, err := os.CreateTemp(o.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("%w: outbox: %v", ErrUnavailable, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("%w: outbox: %v", ErrUnavailable, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%w: outbox: %v", ErrUnavailable, err)
	}
	final := filepath.Join(o.dir, name)
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("%w: outbox name collision", ErrUnavailable)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("%w: outbox: %v", ErrUnavailable, err)
	}
	return nil
}
