package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	mail "github.com/wneessen/go-mail"
)

// TLSMode says how SMTP connections are protected.
type TLSMode string

// TLS modes.
const (
	// StartTLS requires STARTTLS (the default): no fallback to clear text.
	StartTLS TLSMode = "starttls"
	// ImplicitTLS connects with TLS from the first byte (port 465).
	ImplicitTLS TLSMode = "tls"
	// OpportunisticTLS uses STARTTLS when offered, clear text otherwise.
	OpportunisticTLS TLSMode = "opportunistic"
	// NoTLS never encrypts (a local relay only).
	NoTLS TLSMode = "none"
)

// SMTPOptions configures an SMTP sender.
type SMTPOptions struct {
	Host string
	// Port defaults to 587 (465 for ImplicitTLS).
	Port int
	// Username and Password enable SMTP AUTH (mechanism chosen from what the server offers).
	Username, Password string
	// From is the envelope and header sender, e.g. "Profil zaufany <no-reply@example.gov.pl>".
	From string
	TLS  TLSMode
	// TLSConfig overrides the TLS settings (e.g. a private CA); ServerName defaults to Host.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each command (default 15 s).
	Timeout time.Duration
	// HELO is the name announced to the server (default "localhost").
	HELO string
}

// SMTP sends e-mail through an SMTP server with wneessen/go-mail. It opens one connection per message.
type SMTP struct {
	o SMTPOptions
}

// NewSMTP checks the options.
func NewSMTP(o SMTPOptions) (*SMTP, error) {
	if o.Host == "" || o.From == "" {
		return nil, errors.New("notify: SMTP needs a host and a From address")
	}
	if o.TLS == "" {
		o.TLS = StartTLS
	}
	switch o.TLS {
	case StartTLS, ImplicitTLS, OpportunisticTLS, NoTLS:
	default:
		return nil, fmt.Errorf("notify: unknown SMTP TLS mode %q", o.TLS)
	}
	if o.Port == 0 {
		o.Port = 587
		if o.TLS == ImplicitTLS {
			o.Port = 465
		}
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	if o.HELO == "" {
		o.HELO = "localhost"
	}
	if err := mail.NewMsg().From(o.From); err != nil {
		return nil, fmt.Errorf("notify: SMTP From address: %w", err)
	}
	return &SMTP{o: o}, nil
}

func (s *SMTP) client() (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(s.o.Port), mail.WithTimeout(s.o.Timeout), mail.WithHELO(s.o.HELO)}
	tc := s.o.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: s.o.Host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, mail.WithTLSConfig(tc))
	switch s.o.TLS {
	case StartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case OpportunisticTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case NoTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case ImplicitTLS:
		opts = append(opts, mail.WithSSL())
	}
	if s.o.Username != "" {
		mech := mail.SMTPAuthAutoDiscover
		if s.o.TLS == NoTLS {
			// Only for a trusted local relay: the password crosses the connection in clear.
			mech = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(mech), mail.WithUsername(s.o.Username),
			mail.WithPassword(s.o.Password))
	}
	return mail.NewClient(s.o.Host, opts...)
}

// Send implements Sender for Email messages.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if m.Channel != Email {
		return fmt.Errorf("%w: SMTP sends e-mail only", ErrNoRoute)
	}
	if !validHeader(m.To) || !validHeader(m.Subject) {
		return fmt.Errorf("%w: recipient or subject unusable", ErrRejected)
	}
	msg := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP))
	if err := msg.From(s.o.From); err != nil {
		return fmt.Errorf("%w: sender address: %v", ErrRejected, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("%w: recipient address: %v", ErrRejected, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetGenHeader("X-Trustsign-Channel", string(m.Channel))
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	c, err := s.client()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		var ne net.Error
		var se *mail.SendError
		if errors.As(err, &se) && !se.IsTemp() && !errors.As(err, &ne) {
			return fmt.Errorf("%w: %v", ErrRejected, err)
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}
