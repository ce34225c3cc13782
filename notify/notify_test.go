package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/trustsign/trustsign/notify"
)

var ctx = context.Background()

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var codeMsg = notify.Message{To: "anna@example.test", Channel: notify.Email, Subject: "Kod autoryzacyjny – podpis zaufany",
	Body: "Dzień dobry,\n\nTwój kod: 123456\n\nŻółć gęślą jaźń.", Code: "123456"}

func TestOutboxWritesRFC5322Files(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	ob, err := notify.NewOutbox(dir, notify.OutboxOptions{Clock: fixedClock{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	sms := notify.Message{To: "+48500100200", Channel: notify.SMS, Body: "Kod: 654321", Code: "654321"}
	for _, m := range []notify.Message{codeMsg, codeMsg, sms} {
		if err := ob.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("%d files for 3 messages (same clock: names must still be unique)", len(entries))
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".eml") {
			t.Fatalf("leftover %s", e.Name())
		}
		raw, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s is not RFC 5322: %v", e.Name(), err)
		}
		if _, err := mail.ParseAddress(msg.Header.Get("To")); err != nil {
			t.Errorf("To header %q: %v", msg.Header.Get("To"), err)
		}
		if _, err := msg.Header.Date(); err != nil {
			t.Errorf("Date: %v", err)
		}
		body, _ := io.ReadAll(msg.Body)
		lines := strings.Split(string(body), "\r\n")
		found := false
		for _, l := range lines {
			if l == "Code: 123456" || l == "Code: 654321" {
				found = true
			}
		}
		if !found {
			t.Errorf("no line 'Code: NNNNNN' in %q", body)
		}
		if msg.Header.Get("X-Trustsign-Channel") == "email" {
			subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if err != nil || subj != codeMsg.Subject {
				t.Errorf("subject %q %v", subj, err)
			}
			if !strings.Contains(string(body), "Żółć gęślą jaźń.") {
				t.Errorf("UTF-8 body mangled: %q", body)
			}
		}
	}
}

func TestOutboxRejectsHeaderInjection(t *testing.T) {
	ob, _ := notify.NewOutbox(t.TempDir(), notify.OutboxOptions{})
	for _, m := range []notify.Message{
		{To: "a@example.test\r\nBcc: x@evil.test", Channel: notify.Email, Body: "x"},
		{To: "a@example.test", Channel: notify.Email, Subject: "x\nBcc: y", Body: "x"},
		{To: "", Channel: notify.Email, Body: "x"},
	} {
		if err := ob.Send(ctx, m); !errors.Is(err, notify.ErrRejected) {
			t.Errorf("%q: %v", m.To, err)
		}
	}
}

// smtpBackend is a real SMTP server (emersion/go-smtp) that keeps what it receives.
type smtpBackend struct {
	mu       sync.Mutex
	got      []received
	user     string
	pass     string
	rejectTo string
}

type received struct {
	from string
	to   []string
	data []byte
}

type smtpSession struct {
	b    *smtpBackend
	auth bool
	cur  received
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.b.user || pass != s.b.pass {
			return errors.New("bad credentials")
		}
		s.auth = true
		return nil
	}), nil
}
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.user != "" && !s.auth {
		return smtp.ErrAuthRequired
	}
	s.cur.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == s.b.rejectTo {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.b.mu.Lock()
	s.b.got = append(s.b.got, s.cur)
	s.b.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        { s.cur = received{} }
func (s *smtpSession) Logout() error { return nil }

func startSMTP(t *testing.T, b *smtpBackend) (host string, port int) {
	t.Helper()
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	srv.MaxMessageBytes = 1 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	a := ln.Addr().(*net.TCPAddr)
	return "127.0.0.1", a.Port
}

func TestSMTPDeliversThroughARealServer(t *testing.T) {
	tests := []struct {
		name       string
		user, pass string
	}{
		{"no auth", "", ""},
		{"AUTH PLAIN", "trustsign", "sekret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &smtpBackend{user: tc.user, pass: tc.pass}
			host, port := startSMTP(t, b)
			s, err := notify.NewSMTP(notify.SMTPOptions{Host: host, Port: port, TLS: notify.NoTLS, From: "PZ <no-reply@trustsign.test>",
				Username: tc.user, Password: tc.pass, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(ctx, codeMsg); err != nil {
				t.Fatal(err)
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if len(b.got) != 1 || b.got[0].from != "no-reply@trustsign.test" || b.got[0].to[0] != "anna@example.test" {
				t.Fatalf("server got %+v", b.got)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(b.got[0].data))
			if err != nil {
				t.Fatal(err)
			}
			subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if subj != codeMsg.Subject {
				t.Errorf("subject %q", subj)
			}
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if !strings.Contains(string(body), "Twój kod: 123456") || !strings.Contains(string(body), "Żółć") {
				t.Errorf("body %q", body)
			}
		})
	}
}

func TestSMTPErrors(t *testing.T) {
	b := &smtpBackend{rejectTo: "nobody@example.test"}
	host, port := startSMTP(t, b)
	s, _ := notify.NewSMTP(notify.SMTPOptions{Host: host, Port: port, TLS: notify.NoTLS, From: "no-reply@trustsign.test", Timeout: 5 * time.Second})
	m := codeMsg
	m.To = "nobody@example.test"
	if err := s.Send(ctx, m); !errors.Is(err, notify.ErrRejected) {
		t.Errorf("550 recipient: %v, want ErrRejected", err)
	}
	m.To = "not an address"
	if err := s.Send(ctx, m); !errors.Is(err, notify.ErrRejected) {
		t.Errorf("bad address: %v, want ErrRejected", err)
	}
	// STARTTLS is required by default: a server without it is not used in clear.
	s2, _ := notify.NewSMTP(notify.SMTPOptions{Host: host, Port: port, From: "no-reply@trustsign.test", Timeout: 5 * time.Second})
	if err := s2.Send(ctx, codeMsg); err == nil {
		t.Error("sent in clear although STARTTLS is mandatory")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s3, _ := notify.NewSMTP(notify.SMTPOptions{Host: "127.0.0.1", Port: closed, TLS: notify.NoTLS, From: "no-reply@trustsign.test", Timeout: 2 * time.Second})
	if err := s3.Send(ctx, codeMsg); !errors.Is(err, notify.ErrUnavailable) {
		t.Errorf("closed port: %v, want ErrUnavailable", err)
	}
	if _, err := notify.NewSMTP(notify.SMTPOptions{Host: "x"}); err == nil {
		t.Error("no From accepted")
	}
	if err := s.Send(ctx, notify.Message{To: "+48500100200", Channel: notify.SMS}); !errors.Is(err, notify.ErrNoRoute) {
		t.Errorf("SMS through SMTP: %v", err)
	}
}

func TestSMSGateway(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]string
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
			r.Header.Get("Authorization") != "Bearer gw-token" || r.Header.Get("Idempotency-Key") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, body)
		mu.Unlock()
		w.WriteHeader(status)
	}))
	defer srv.Close()
	g, err := notify.NewSMSGateway(notify.SMSGatewayOptions{URL: srv.URL, Token: "gw-token", Sender: "PZ"})
	if err != nil {
		t.Fatal(err)
	}
	sms := notify.Message{To: "+48500100200", Channel: notify.SMS, Body: "Kod: 123456 (podpis „recepta.xml”)", Code: "123456"}
	if err := g.Send(ctx, sms); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["to"] != "+48500100200" || got[0]["text"] != sms.Body || got[0]["sender"] != "PZ" || got[0]["reference"] == "" {
		t.Fatalf("gateway got %v", got)
	}
	tests := []struct {
		status int
		want   error
	}{
		{http.StatusBadRequest, notify.ErrRejected},
		{http.StatusTooManyRequests, notify.ErrUnavailable},
		{http.StatusBadGateway, notify.ErrUnavailable},
	}
	for _, tc := range tests {
		status = tc.status
		if err := g.Send(ctx, sms); !errors.Is(err, tc.want) {
			t.Errorf("HTTP %d: %v, want %v", tc.status, err, tc.want)
		}
	}
	if err := g.Send(ctx, codeMsg); !errors.Is(err, notify.ErrNoRoute) {
		t.Errorf("e-mail through the SMS gateway: %v", err)
	}
}

func TestRouterAndRecorder(t *testing.T) {
	var email, sms notify.Recorder
	r := notify.Router{Email: &email, SMS: &sms}
	if err := r.Send(ctx, codeMsg); err != nil {
		t.Fatal(err)
	}
	if err := r.Send(ctx, notify.Message{To: "+48500100200", Channel: notify.SMS, Body: "x"}); err != nil {
		t.Fatal(err)
	}
	if len(email.Messages()) != 1 || len(sms.Messages()) != 1 {
		t.Fatal("router mixed channels")
	}
	if m, ok := email.Last("anna@example.test"); !ok || m.Code != "123456" {
		t.Fatal("Last")
	}
	if err := (notify.Router{}).Send(ctx, codeMsg); !errors.Is(err, notify.ErrNoRoute) {
		t.Fatalf("empty router: %v", err)
	}
}
