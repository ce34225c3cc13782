// Package clienttest runs the real trustsign service in-process behind a loopback httptest server, wired the way
// `trustsign serve` wires it (bbolt store, profile service, signing flow, REST API), with every message kept in
// memory so that tests, examples and load drivers can read one-time codes without an outbox directory.
//
// It is test support: passwords are hashed with deliberately weak Argon2 parameters, the seal is the generated
// test PKI's P-256 key, and nothing is meant to outlive the process. It is not a deployment and not a mock: every
// request goes through the same handlers, domain services and store as in production.
package clienttest

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/trustsign/trustsign/api"
	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/verify"
)

// Clock tells the time; the API, the profile service and the signing flow share it.
type Clock interface{ Now() time.Time }

// Options configure the service. The zero value works.
type Options struct {
	// Dir is the data directory (the bbolt file goes there); "" makes a temporary one removed by Close.
	Dir string
	// Clock defaults to the wall clock. Keep it near the wall clock: the test PKI is valid from an hour ago.
	Clock Clock
	// Log receives the service's slog JSON lines (access log, errors); nil discards them.
	Log io.Writer
	// Seal signs; nil means the test PKI's ECDSA P-256 identity.
	Seal *signer.Seal
	// Codes and Sessions override the profile service's defaults (production rules when zero).
	Codes    profile.CodeOptions
	Sessions profile.SessionOptions
	// Messages overrides the message and per-address limits (production defaults when zero).
	Messages profile.MessageOptions
	// MaxDocumentBytes bounds documents (default 10 MiB).
	MaxDocumentBytes int64
	// PublicVerifyPerMinute bounds unauthenticated verification per address (default 60).
	PublicVerifyPerMinute int
	// Argon2 is the password hashing cost; zero means the weakest parameters (tests only).
	Argon2 profile.Argon2Params
	// Unstarted leaves the HTTP server unstarted (use Handler, or call Start on HTTP).
	Unstarted bool
	// TrustedProxies is api.Config's (tests that act from several client addresses trust 127.0.0.1 and send
	// X-Forwarded-For).
	TrustedProxies []string
	// Profile, when set, adjusts the profile service's options (hashing slots, ...) before it starts.
	Profile func(*profile.Options)
	// Notify receives every finished signing request; nil means webhooks as `trustsign serve` sends them (recorded
	// with the request's end, posted by a running signing.Deliverer), with loopback and private addresses allowed
	// (so a test's receiver can listen on 127.0.0.1).
	Notify func(ctx context.Context, r signing.Request)
	// Signing, when set, adjusts the signing flow's options (level, time-stamping) before it starts.
	Signing func(*signing.Options)
}

// Service is a running service.
type Service struct {
	// URL is the base URL of the loopback server ("" when Unstarted).
	URL string
	// HTTP is the loopback server.
	HTTP *httptest.Server
	// Handler is the REST API.
	Handler *api.Server
	// DB is the store (insert maintenance windows through it, read the audit log...).
	DB *bbolt.DB
	// Profiles and Signing are the domain services behind the API.
	Profiles *profile.Service
	Signing  *signing.Service
	// Sent keeps every message the service sent (codes included).
	Sent *notify.Recorder
	// Seal is the service's signing identity; Policy trusts its chain (as POST /v1/verify does).
	Seal   *signer.Seal
	Policy *verify.Policy
	// PKI is the test PKI the default seal comes from.
	PKI *testpki.PKI

	clock    Clock
	closers  []func()
	officer  sync.Once
	officerI string
	officerE error
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// weakArgon2 is the cheapest Argon2id the profile service accepts with UnsafeFastHashing.
var weakArgon2 = profile.Argon2Params{Memory: 64, Time: 1, Threads: 1}

// secret keys the profile service's hashes (a fixed test value).
var secret = []byte("clienttest-secret-0123456789abcdef")

// Start opens a store and starts the service.
func Start(o Options) (*Service, error) {
	s := &Service{clock: o.Clock, Sent: &notify.Recorder{}, PKI: testpki.New()}
	if s.clock == nil {
		s.clock = wallClock{}
	}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "trustsign-clienttest-")
		if err != nil {
			return nil, err
		}
		dir = d
		s.closers = append(s.closers, func() { os.RemoveAll(d) })
	}
	db, err := bbolt.Open(filepath.Join(dir, "trustsign.db"), bbolt.Options{})
	if err != nil {
		return nil, err
	}
	s.DB = db
	s.closers = append(s.closers, func() { db.Close() })

	argon := o.Argon2
	if argon == (profile.Argon2Params{}) {
		argon = weakArgon2
	}
	po := profile.Options{Clock: s.clock, Secret: secret, Argon2: argon, UnsafeFastHashing: true, Codes: o.Codes,
		Sessions: o.Sessions, Messages: o.Messages}
	if o.Profile != nil {
		o.Profile(&po)
	}
	s.Profiles, err = profile.New(db, s.Sent, po)
	if err != nil {
		return nil, err
	}
	s.Seal = o.Seal
	if s.Seal == nil {
		if s.Seal, err = signer.NewSeal(s.PKI.EC256.Key, s.PKI.EC256.Chain); err != nil {
			return nil, err
		}
		s.Policy = &verify.Policy{Roots: []*x509.Certificate{s.PKI.Root}, Intermediates: s.Seal.Chain}
	} else {
		// as serve does: the seal chain's last certificate is the anchor
		s.Policy = &verify.Policy{Roots: []*x509.Certificate{s.Seal.Chain[len(s.Seal.Chain)-1]}, Intermediates: s.Seal.Chain}
	}
	logger := slog.New(slog.DiscardHandler)
	if o.Log != nil {
		logger = slog.New(slog.NewJSONHandler(&lockedWriter{w: o.Log}, nil))
	}
	var signURL func(string) string // set once the address is known
	so := signing.Options{Clock: s.clock, MaxDocumentBytes: int(o.MaxDocumentBytes),
		SignURL: func(id string) string { return signURL(id) }, Notify: o.Notify}
	if o.Notify == nil {
		d := signing.NewDeliverer(db, signing.WebhookOptions{Logger: logger, AllowPrivate: true, Clock: s.clock})
		so.Webhooks = d
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { d.Run(ctx); close(done) }()
		s.closers = append(s.closers, func() { cancel(); <-done }) // before the store closes
	}
	if o.Signing != nil {
		o.Signing(&so)
	}
	s.Signing = signing.New(db, s.Profiles, s.Seal, so)
	s.Handler, err = api.New(api.Config{Logger: logger, Clock: s.clock, MaxDocumentBytes: o.MaxDocumentBytes,
		VerifyPolicy: s.Policy, PublicVerifyPerMinute: o.PublicVerifyPerMinute,
		Profiles: s.Profiles, Signing: s.Signing, TrustedProxies: o.TrustedProxies,
		Maintenance: db, Ready: func(ctx context.Context) error { return db.View(ctx, func(*store.Tx) error { return nil }) }})
	if err != nil {
		return nil, err
	}
	s.HTTP = httptest.NewUnstartedServer(s.Handler)
	s.closers = append(s.closers, s.HTTP.Close)
	if !o.Unstarted {
		s.HTTP.Start()
		s.URL = s.HTTP.URL
	}
	base := s.URL
	signURL = func(id string) string { return base + "/sign/" + id }
	ok = true
	return s, nil
}

// Close stops the server and closes the store.
func (s *Service) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// Client returns an API client for the service (add APIKey or SessionToken).
func (s *Service) Client(opts ...client.Option) *client.Client {
	hc := http.DefaultClient
	if s.HTTP != nil && s.URL != "" {
		hc = s.HTTP.Client()
	}
	c, err := client.New(s.URL, append([]client.Option{client.HTTPClient(hc)}, opts...)...)
	if err != nil {
		panic("clienttest: " + err.Error()) // the URL is httptest's
	}
	return c
}

// NewIntegrator creates an integrator client with the scopes (as `trustsign admin client create` does) and
// returns its API key.
func (s *Service) NewIntegrator(ctx context.Context, name string, scopes ...profile.Scope) (string, error) {
	_, key, err := s.Profiles.CreateClient(ctx, name, scopes)
	return key, err
}

// OfficerLogin and OfficerPassword are the officer NewOfficer creates.
const (
	OfficerLogin    = "urzednik1"
	OfficerPassword = "Urzednik-Test-2026!"
)

// Officer creates (once) the officer OfficerLogin and returns its id.
func (s *Service) Officer(ctx context.Context) (string, error) {
	s.officer.Do(func() {
		o, err := s.Profiles.CreateOfficer(ctx, OfficerLogin, OfficerPassword, "Anna Urzędniczka")
		s.officerI, s.officerE = o.ID, err
	})
	return s.officerI, s.officerE
}

// Holder describes a profile holder to create.
type Holder struct {
	Login, Password     string
	FirstName, Surname  string
	PESEL, Email, Phone string
	Channel             profile.Channel
}

// Password is the password NewHolder uses when none is given.
const Password = "Zaufany-Haslo-2026"

// NewHolder makes an active trusted profile through the domain service (register, confirm the contact with the
// sent code, confirm in person by the officer) and returns its id. Empty fields get test values; the code channel
// defaults to e-mail, the e-mail to LOGIN@example.test.
func (s *Service) NewHolder(ctx context.Context, h Holder) (string, error) {
	if h.Password == "" {
		h.Password = Password
	}
	if h.FirstName == "" {
		h.FirstName = "Anna"
	}
	if h.Surname == "" {
		h.Surname = "Testowa"
	}
	if h.Email == "" {
		h.Email = h.Login + "@example.test"
	}
	if h.Phone == "" {
		h.Phone = "+48500100200"
	}
	if h.Channel == "" {
		h.Channel = profile.ChannelEmail
	}
	r, err := s.Profiles.Register(ctx, profile.Application{Login: h.Login, Password: h.Password, FirstName: h.FirstName,
		Surname: h.Surname, PESEL: h.PESEL, Email: h.Email, Phone: h.Phone, CodeChannel: h.Channel})
	if err != nil {
		return "", fmt.Errorf("register %s: %w", h.Login, err)
	}
	to := h.Email
	if h.Channel == profile.ChannelSMS {
		to = h.Phone
	}
	code, ok := s.LastCode(to)
	if !ok {
		return "", fmt.Errorf("register %s: no contact code sent (login or PESEL taken?)", h.Login)
	}
	if err := s.Profiles.ConfirmContact(ctx, r.ID, code); err != nil {
		return "", fmt.Errorf("confirm contact of %s: %w", h.Login, err)
	}
	oid, err := s.Officer(ctx)
	if err != nil {
		return "", err
	}
	if _, err := s.Profiles.ConfirmInPerson(ctx, oid, r.ApplicationNumber, profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"}); err != nil {
		return "", fmt.Errorf("confirm %s in person: %w", h.Login, err)
	}
	return r.ID, nil
}

// LastCode returns the code of the newest message to a recipient (an e-mail address or an E.164 phone number).
func (s *Service) LastCode(to string) (string, bool) {
	s.Profiles.WaitForDeliveries()
	m, ok := s.Sent.Last(to)
	if !ok || m.Code == "" {
		return "", false
	}
	return m.Code, true
}

// AddMaintenanceWindow announces a window from start to end.
func (s *Service) AddMaintenanceWindow(ctx context.Context, id string, start, end time.Time, message string) error {
	return s.DB.AddMaintenanceWindow(ctx, store.MaintenanceWindow{ID: id, Start: start, End: end, Message: message,
		Created: s.clock.Now(), CreatedBy: "clienttest"})
}

// PESEL returns the n-th of a sequence of distinct valid PESELs (born 1950 to 2004, so always of age).
func PESEL(n int) string {
	if n < 0 {
		n = -n
	}
	day := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n%20000)
	serial := (n / 20000) % 10000
	y, m := day.Year(), int(day.Month())
	if y >= 2000 {
		m += 20
	}
	s := fmt.Sprintf("%02d%02d%02d%04d", y%100, m, day.Day(), serial)
	w := [10]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i := range w {
		sum += int(s[i]-'0') * w[i]
	}
	return s + string(rune('0'+(10-sum%10)%10))
}

// IsProblem reports whether err is a *client.Problem with the status.
func IsProblem(err error, status int) bool {
	var p *client.Problem
	return errors.As(err, &p) && p.Status == status
}

// lockedWriter serialises writes of concurrent requests' log lines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Buffer is a concurrency-safe in-memory log (Options.Log) that tests can search.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
