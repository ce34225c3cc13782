package profile

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/store"
)

// Clock tells the time. Tests inject a settable clock.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// Store is what the profile service needs from storage: serializable transactions over the typed store.
// *store.DB (and so *bbolt.DB) satisfies it.
type Store interface {
	View(ctx context.Context, fn func(*store.Tx) error) error
	Update(ctx context.Context, fn func(*store.Tx) error) error
	// Batch is Update that may be coalesced with concurrent calls (code redemption uses it).
	Batch(ctx context.Context, fn func(*store.Tx) error) error
}

// Sender delivers codes and notices. notify.Outbox, notify.SMTP, notify.Router... satisfy it.
type Sender interface {
	Send(ctx context.Context, m notify.Message) error
}

// CodeOptions configure one-time codes.
type CodeOptions struct {
	// Digits is the code length (default 6, 6 to 10).
	Digits int
	// TTL is a code's lifetime (default 5 minutes).
	TTL time.Duration
	// MaxWrong wrong entries kill a code (default 3).
	MaxWrong int
	// ResendInterval is the least time between two codes of one purpose for one profile (default 1 s).
	ResendInterval time.Duration
	// IssueWindow and MaxIssues bound the codes per profile and purpose (default 10 per 15 minutes).
	IssueWindow time.Duration
	MaxIssues   int
	// FailureWindow and MaxFailures bound wrong entries per profile over all its codes (default 20 per 24 hours);
	// past it neither entries nor new codes are accepted until the window moves on.
	FailureWindow time.Duration
	MaxFailures   int
}

// SessionOptions configure login sessions and login throttling.
type SessionOptions struct {
	// IdleTimeout ends a session unused for this long (default 15 minutes); AbsoluteTimeout ends any session
	// this long after login (default 8 hours).
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// Failed logins are throttled with growing delays, never by locking the account: after MaxLoginFailures
	// failures for one login from one client address (forgotten after a LoginWindow without failure), each further attempt from that address
	// must wait 1 s, 2 s, 4 s … (at most MaxLoginDelay) after the previous failure (defaults: 5, 15 minutes,
	// 15 minutes); one address may fail at most LoginFailuresPerAddress times (default 100) within a LoginWindow
	// over all logins (password spraying). These are answered before any password hash. Over all addresses,
	// after MaxLoginFailuresPerLogin failures (default 10) attempts from addresses that never logged in to that
	// login wait likewise, at most MaxLoginDelayPerLogin (default 1 minute), but only a wrong password waits: a
	// delayed attempt is checked and the right password logs in, so an attacker elsewhere cannot keep the holder
	// out; addresses that did log in (within KnownAddressTTL, default 30 days) are exempt from it.
	MaxLoginFailures         int
	LoginWindow              time.Duration
	MaxLoginDelay            time.Duration
	LoginFailuresPerAddress  int
	MaxLoginFailuresPerLogin int
	MaxLoginDelayPerLogin    time.Duration
	KnownAddressTTL          time.Duration
}

// RecoveryOptions bound password recovery per client address, over all identifiers (message floods, code
// guessing across many profiles): RequestsPerAddress reset requests and ConfirmsPerAddress code entries within
// AddressWindow (defaults: 10 and 20 per 15 minutes), counted by AllowFrom.
type RecoveryOptions struct {
	RequestsPerAddress int
	ConfirmsPerAddress int
	AddressWindow      time.Duration
}

// Options configure the service. Only Secret is required.
type Options struct {
	Clock Clock
	// Rand is the source of codes, tokens, salts and ids (crypto/rand when nil).
	Rand io.Reader
	// Secret (at least 32 bytes, kept apart from the database) keys the hashes of PESELs, codes and identity
	// document numbers. Changing it orphans every stored hash.
	Secret []byte
	// Argon2 is the password hashing cost (DefaultArgon2 when zero).
	Argon2 Argon2Params
	// UnsafeFastHashing allows Argon2 weaker than DefaultArgon2. Tests only.
	UnsafeFastHashing bool
	Codes             CodeOptions
	Sessions          SessionOptions
	// Messages bounds messages per destination and anonymous requests per client address.
	Messages MessageOptions
	Recovery RecoveryOptions
	// ApplicationTTL is the confirmation period of an application (default 14 days).
	ApplicationTTL time.Duration
	// ValidFor is a standard profile's validity (default 3 years); TemporaryValidFor a temporary one's (default
	// 3 months, 90 days).
	ValidFor          time.Duration
	TemporaryValidFor time.Duration
	// ExtendWithin is how long before expiry a holder may extend (default 180 days).
	ExtendWithin time.Duration
	// MinAge is the least age of a holder in years (default 13).
	MinAge int
	// IdPKeys are the trusted identity providers' public keys by key id (see ParseIdPAssertion).
	IdPKeys map[string]IdPKey
	// IdPAudience is the aud an assertion must carry (default "trustsign").
	IdPAudience string
	// QualifiedRoots and QualifiedIntermediates anchor qualified certificates for self-confirmation.
	QualifiedRoots         []*x509.Certificate
	QualifiedIntermediates []*x509.Certificate
	// BlockedPasswords extends the built-in common-password list.
	BlockedPasswords []string
	// HashSlots bounds the password hashes and checks running at once (each argon2id takes Argon2.Memory;
	// default: the number of CPUs). A hash waits at most HashWait (default 2 s) for a slot, then fails with
	// ErrBusy.
	HashSlots int
	HashWait  time.Duration
	// HashObserver, when set, is called as each hash starts, with the number running (its own included).
	HashObserver func(running int)
}

// IdPKey is a trusted identity provider's key.
type IdPKey struct {
	// Issuer is the iss an assertion signed with this key must carry (e.g. "https://bank.example/pz").
	Issuer string
	Key    crypto.PublicKey
}

// Service runs trusted profiles: registration, confirmation, life cycle, sessions, codes, integrator clients.
type Service struct {
	st Store
	// send delivers messages an anonymous caller can trigger; sendHolder those only a logged-in holder or an
	// officer can (each with its own per-destination budget, see MessageOptions).
	send       Sender
	sendHolder destinationLimiter
	clk        Clock
	rnd        io.Reader
	o          Options
	keys       derivedKeys
	dummy      string // a password hash to burn time on for unknown logins
	// hashSlots holds one token per running password hash (capacity Options.HashSlots).
	hashSlots   chan struct{}
	hashRunning atomic.Int32
	// deliveries counts messages being sent in the background (see WaitForDeliveries).
	deliveries sync.WaitGroup
}

type derivedKeys struct {
	pesel, code, document, audit, token []byte
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("trustsign/profile/" + label))
	return m.Sum(nil)
}

// New checks the options, fills in defaults and returns the service. It also checks the secret against the store:
// a store first used with another secret is refused with ErrSecretMismatch (the first New on a store records a
// keyed fingerprint of its secret there).
func New(st Store, send Sender, o Options) (*Service, error) {
	if st == nil || send == nil {
		return nil, errors.New("profile: New needs a store and a sender")
	}
	if len(o.Secret) < 32 {
		return nil, errors.New("profile: the secret must have at least 32 bytes")
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Argon2 == (Argon2Params{}) {
		o.Argon2 = DefaultArgon2
	}
	if o.Argon2.weakerThan(DefaultArgon2) && !o.UnsafeFastHashing {
		return nil, fmt.Errorf("profile: argon2id parameters %+v are weaker than m=19 MiB, t=2, p=1", o.Argon2)
	}
	c := &o.Codes
	setDefault(&c.Digits, 6)
	if c.Digits < 6 || c.Digits > 10 {
		return nil, errors.New("profile: codes must have 6 to 10 digits")
	}
	setDefault(&c.TTL, 5*time.Minute)
	setDefault(&c.MaxWrong, 3)
	setDefault(&c.ResendInterval, time.Second)
	setDefault(&c.IssueWindow, 15*time.Minute)
	setDefault(&c.MaxIssues, 10)
	setDefault(&c.FailureWindow, 24*time.Hour)
	setDefault(&c.MaxFailures, 20)
	s := &o.Sessions
	setDefault(&s.IdleTimeout, 15*time.Minute)
	setDefault(&s.AbsoluteTimeout, 8*time.Hour)
	setDefault(&s.MaxLoginFailures, 5)
	setDefault(&s.LoginWindow, 15*time.Minute)
	setDefault(&s.MaxLoginDelay, 15*time.Minute)
	setDefault(&s.LoginFailuresPerAddress, 100)
	setDefault(&s.MaxLoginFailuresPerLogin, 10)
	setDefault(&s.MaxLoginDelayPerLogin, time.Minute)
	setDefault(&s.KnownAddressTTL, 30*24*time.Hour)
	setDefault(&o.HashSlots, runtime.NumCPU())
	setDefault(&o.HashWait, 2*time.Second)
	if o.HashSlots < 0 {
		return nil, errors.New("profile: HashSlots must not be negative")
	}
	o.Messages.setDefaults()
	setDefault(&o.Recovery.RequestsPerAddress, 10)
	setDefault(&o.Recovery.ConfirmsPerAddress, 20)
	setDefault(&o.Recovery.AddressWindow, 15*time.Minute)
	setDefault(&o.ApplicationTTL, 14*24*time.Hour)
	setDefault(&o.ValidFor, 3*365*24*time.Hour+24*time.Hour) // three years, a leap day included
	setDefault(&o.TemporaryValidFor, 90*24*time.Hour)
	setDefault(&o.ExtendWithin, 180*24*time.Hour)
	setDefault(&o.MinAge, 13)
	if o.IdPAudience == "" {
		o.IdPAudience = "trustsign"
	}
	svc := &Service{st: st, send: send, clk: o.Clock, rnd: o.Rand, o: o, hashSlots: make(chan struct{}, o.HashSlots), keys: derivedKeys{
		pesel: derive(o.Secret, "pesel-index"), code: derive(o.Secret, "codes"), document: derive(o.Secret, "documents"),
		audit: derive(o.Secret, "audit"), token: derive(o.Secret, "tokens"),
	}}
	// every message, whatever its kind, goes through a per-destination limit
	svc.send = destinationLimiter{s: svc, next: send}
	svc.sendHolder = destinationLimiter{s: svc, next: send, holder: true}
	dummy, err := hashPassword("not a password of anyone", o.Argon2, svc.rnd)
	if err != nil {
		return nil, err
	}
	svc.dummy = dummy
	if err := bindSecret(context.Background(), st, o.Secret); err != nil { // New has no context: start-up only
		return nil, err
	}
	return svc, nil
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

func (s *Service) now() time.Time { return s.clk.Now().UTC() }

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		var l [4]byte
		l[0], l[1], l[2], l[3] = byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p))
		m.Write(l[:])
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// PESELIndexKey is the keyed hash under which a PESEL is indexed.
func (s *Service) peselIndex(pesel string) []byte { return mac(s.keys.pesel, pesel) }

// auditPESEL is the keyed hash of a PESEL written in audit records (hex, 128 bits).
func (s *Service) auditPESEL(pesel string) string {
	return hex.EncodeToString(mac(s.keys.audit, "pesel", pesel)[:16])
}

func (s *Service) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rnd, b); err != nil {
		return nil, fmt.Errorf("profile: randomness: %w", err)
	}
	return b, nil
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a 128-bit random id (26 lower-case base32 characters).
func (s *Service) newID() (string, error) {
	b, err := s.randomBytes(16)
	if err != nil {
		return "", err
	}
	return idEncoding.EncodeToString(b), nil
}

// crockford is Crockford's base32 alphabet: no I, L, O, U, easy to read out and type.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newApplicationNumber returns "PZ-XXXX-XXXX-XXXX" (60 random bits), what the applicant tells the officer.
func (s *Service) newApplicationNumber() (string, error) {
	b, err := s.randomBytes(12)
	if err != nil {
		return "", err
	}
	out := []byte("PZ-")
	for i := 0; i < 12; i++ {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, crockford[b[i]&31])
	}
	return string(out), nil
}

// NormalizeApplicationNumber upper-cases an application number and reads O as 0 and I, L as 1 (Crockford).
func NormalizeApplicationNumber(n string) string {
	out := make([]byte, 0, len(n))
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		switch c {
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		case ' ':
			continue
		}
		out = append(out, c)
	}
	return string(out)
}
