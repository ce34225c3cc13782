package profile_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store/bbolt"
)

var ctx = context.Background()

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fastArgon2 keeps tests quick; production refuses it (see TestNewRefusesWeakHashing).
var fastArgon2 = profile.Argon2Params{Memory: 64, Time: 1, Threads: 1}

type env struct {
	svc   *profile.Service
	db    *bbolt.DB
	sent  *notify.Recorder
	clock *testClock
	opts  profile.Options
}

func newEnv(t testing.TB, mutate ...func(*profile.Options)) *env {
	t.Helper()
	return newEnvWith(t, bbolt.Options{}, mutate...)
}

func newEnvWith(t testing.TB, bo bbolt.Options, mutate ...func(*profile.Options)) *env {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "trustsign.db"), bo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{db: db, sent: &notify.Recorder{}, clock: &testClock{t: start}}
	e.opts = profile.Options{Clock: e.clock, Secret: []byte("0123456789abcdef0123456789abcdef"),
		Argon2: fastArgon2, UnsafeFastHashing: true}
	for _, m := range mutate {
		m(&e.opts)
	}
	e.svc, err = profile.New(db, e.sent, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const (
	pesel    = "44051401359"
	password = "Dobre-Haslo-2026"
)

func app(login, pesel string) profile.Application {
	return profile.Application{Login: login, Password: password, FirstName: "Jan", Surname: "Próbny", PESEL: pesel,
		Email: login + "@example.test", Phone: "+48500100300", CodeChannel: profile.ChannelEmail}
}

// lastCode returns the code of the newest message with a code to a recipient (notices delivered in the
// background may come after it).
func (e *env) lastCode(t testing.TB, to string) string {
	t.Helper()
	e.svc.WaitForDeliveries()
	msgs := e.sent.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == to && msgs[i].Code != "" {
			return msgs[i].Code
		}
	}
	t.Fatalf("no code sent to %s", to)
	return ""
}

func (e *env) register(t testing.TB, login, pesel string) profile.Registration {
	t.Helper()
	r, err := e.svc.Register(ctx, app(login, pesel))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// activeProfile registers, confirms the contact and has an officer confirm it in person.
func (e *env) activeProfile(t testing.TB, login, pesel string) profile.Profile {
	t.Helper()
	r := e.register(t, login, pesel)
	if err := e.svc.ConfirmContact(ctx, r.ID, e.lastCode(t, login+"@example.test")); err != nil {
		t.Fatal(err)
	}
	o := e.officer(t)
	p, err := e.svc.ConfirmInPerson(ctx, o.ID, r.ApplicationNumber, profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustBeDecoy checks that an application behaves like any other towards its applicant (its contact code
// confirms) but can never be confirmed.
func (e *env) mustBeDecoy(t testing.TB, r profile.Registration, contact string) {
	t.Helper()
	if err := e.svc.ConfirmContact(ctx, r.ID, e.lastCode(t, contact)); err != nil {
		t.Fatalf("decoy contact code: %v", err)
	}
	o := e.officer(t)
	_, err := e.svc.ConfirmInPerson(ctx, o.ID, r.ApplicationNumber, profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"})
	wantErr(t, err, profile.ErrTransition)
}

func (e *env) officer(t testing.TB) profile.Officer {
	t.Helper()
	o, err := e.svc.AuthenticateOfficer(ctx, "urzednik1", "Urzednik-Test-2026!")
	if err == nil {
		return o
	}
	o, err = e.svc.CreateOfficer(ctx, "urzednik1", "Urzednik-Test-2026!", "Anna Urzędniczka")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

// auditRecords exports the log and checks it verifies.
func (e *env) auditRecords(t testing.TB) []audit.Record {
	t.Helper()
	var b strings.Builder
	if _, err := audit.Export(ctx, e.db, &b); err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	if err := audit.ReadJSONLines(strings.NewReader(b.String()), func(r audit.Record, _ int) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyStore(ctx, e.db, audit.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	return recs
}

func kinds(recs []audit.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Kind)
	}
	return out
}
