package profile_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store/bbolt"
)

// gateSender delivers to a Recorder, but holds every message to one destination until released (a slow SMTP
// exchange or SMS gateway for that destination).
type gateSender struct {
	rec     *notify.Recorder
	slowTo  string
	entered chan struct{}
	release chan struct{}
}

func (g *gateSender) Send(ctx context.Context, m notify.Message) error {
	if m.To == g.slowTo {
		g.entered <- struct{}{}
		<-g.release
	}
	return g.rec.Send(ctx, m)
}

// TestAttackRegisterTakenLoginWaitsForHolderNotice: registration with a taken login sends the holder's
// "someone tried to register" notice synchronously, before the 201, so the answer to a taken identity takes one
// extra SMTP/SMS exchange (hundreds of ms with a real gateway) that a fresh identity does not: a timing oracle for
// taken logins and PESELs, the very one password resets closed by delivering in the background.
func TestAttackRegisterTakenLoginWaitsForHolderNotice(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "trustsign.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	g := &gateSender{rec: &notify.Recorder{}, entered: make(chan struct{}, 16), release: make(chan struct{})}
	e := &env{db: db, sent: g.rec, clock: &testClock{t: start}}
	e.opts = profile.Options{Clock: e.clock, Secret: []byte("0123456789abcdef0123456789abcdef"),
		Argon2: fastArgon2, UnsafeFastHashing: true}
	if e.svc, err = profile.New(db, g, e.opts); err != nil {
		t.Fatal(err)
	}
	holder := e.activeProfile(t, "wlasciciel", pesel)
	g.slowTo = holder.Email

	done := make(chan error, 1)
	attacker := app("wlasciciel", peselBorn(time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), "1234"))
	attacker.Email = "napastnik@example.test"
	go func() { _, err := e.svc.Register(ctx, attacker); done <- err }()
	select {
	case err := <-done:
		t.Logf("register answered before the holder's notice was delivered (good): %v", err)
		close(g.release)
		return
	case <-g.entered:
	}
	// the holder's notice is in flight: does the applicant's answer wait for it?
	select {
	case err := <-done:
		close(g.release)
		t.Logf("answered while the notice is in flight: %v", err)
	case <-time.After(2 * time.Second):
		close(g.release)
		<-done
		t.Fatal("the answer to a registration with a taken login waits for the holder's notice to be delivered " +
			"(an extra message exchange a fresh login never costs)")
	}
}

// TestAttackLoginNewAddressKeptOut: an attacker spending one wrong password a minute (rotating through a handful
// of addresses, or an IPv6 /64 where every address is its own bucket) keeps a holder out for as long as he likes
// from any address the holder has not logged in from before: a freshly confirmed holder, a phone on a new network.
// Growing delays per login act as a lockout for every new address.
// TestAttackAnonymousResetsBlockHolderSigningCodes: the per-destination message limit counts every message, so an
// anonymous caller who knows a holder's login (it is in every document the holder signed) asks for password
// resets until the holder's address has had its messages for the hour; the holder's own signing code is then
// refused. Repeated hourly, it stops the holder from signing anything, without a single wrong password.
func TestAttackAnonymousResetsBlockHolderSigningCodes(t *testing.T) {
	e := newEnv(t)
	holder := e.activeProfile(t, "podpisujacy", pesel)
	for i := 0; i < 12; i++ {
		if err := e.svc.RequestPasswordReset(ctx, "podpisujacy"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Second)
	}
	e.svc.WaitForDeliveries()
	digest := make([]byte, 32)
	if _, err := e.svc.IssueSigningCode(ctx, holder.ID, "req-1", "umowa.pdf", digest); err != nil {
		t.Fatalf("the holder's signing code after an anonymous caller's password resets: %v", err)
	}
}

// TestAttackPasswordResetTellsTakenIdentity: a pending application whose contact is confirmed can recover its
// password, but a decoy never holds the taken login or PESEL it was filed with: asking for a reset by that login
// or PESEL sends the code to the applicant's own address when the identity was fresh, and to the real holder
// (nothing to the applicant) when it was taken. The applicant's mailbox tells taken logins and PESELs apart.
// TestAttackPESELSquatterLocksOutAndHearsOfVictim: an application filed with someone else's (not yet registered)
// PESEL holds it for the whole confirmation period: the real person's own application becomes a decoy that no
// officer can confirm, nothing tells them so, and the squatter's address receives the "someone tried to register
// with your PESEL" notice the moment the real person applies.
func TestAttackPESELSquatterLocksOutAndHearsOfVictim(t *testing.T) {
	e := newEnv(t)
	squat := app("squatter", pesel)
	squat.Email = "squatter@example.test"
	if _, err := e.svc.Register(ctx, squat); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	before := len(e.sent.Messages())
	victim := app("prawdziwy", pesel)
	r, err := e.svc.Register(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range e.sent.Messages()[before:] {
		if m.To == squat.Email {
			t.Errorf("the squatter heard of the real person's application: %q", m.Subject)
		}
	}
	if err := e.svc.ConfirmContact(ctx, r.ID, e.lastCode(t, victim.Email)); err != nil {
		t.Fatal(err)
	}
	o := e.officer(t)
	if _, err := e.svc.ConfirmInPerson(ctx, o.ID, r.ApplicationNumber, profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"}); err != nil {
		t.Errorf("the real person, at the office with their ID card, cannot be confirmed: %v", err)
	}
}

// TestAttackDecoyNoticeAmplification: every decoy filed with a taken login hears of each later registration with
// it (one notice per decoy a day), so an attacker who filed N decoys for one login, each with another address
// (anyone's), makes one registration send N messages, synchronously, inside the applicant's request: a message
// amplifier for third-party inboxes and a request whose cost grows with N.
func TestAttackDecoyNoticeAmplification(t *testing.T) {
	e := newEnv(t, func(o *profile.Options) { o.Messages.RegistrationsPerAddress = 1000 })
	e.activeProfile(t, "znany", pesel)
	const n = 40
	for i := 0; i < n; i++ {
		a := app("znany", peselBorn(time.Date(1960+i, 1, 1, 0, 0, 0, 0, time.UTC), "0000"))
		a.Email = fmt.Sprintf("ofiara%d@example.test", i)
		if _, err := e.svc.Register(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(25 * time.Hour)
	before := len(e.sent.Messages())
	a := app("znany", peselBorn(time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC), "4444"))
	a.Email = "jeden@example.test"
	if _, err := e.svc.Register(ctx, a); err != nil {
		t.Fatal(err)
	}
	if sent := len(e.sent.Messages()) - before; sent > 3 {
		t.Fatalf("one registration sent %d messages (to %d decoys' addresses)", sent, n)
	}
}

// TestAttackIPv6AddressesAreSeparateBuckets: per-address limits key on the full address, so one host with an IPv6
// /64 (the smallest routed prefix, handed to every home connection) has 2^64 addresses, each with a fresh
// allowance of registrations (and of messages, resends, failed logins).
func TestAttackIPv6AddressesAreSeparateBuckets(t *testing.T) {
	e := newEnv(t)
	refused := 0
	for i := 1; i <= 200; i++ {
		if err := e.svc.AllowFrom(ctx, profile.ActionRegister, fmt.Sprintf("2001:db8:1:2::%x", i)); err != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("200 registrations from one IPv6 /64, none refused")
	}
}
