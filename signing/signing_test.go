package signing_test

import (
	"context"
	"crypto/x509"
	"errors"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/verify"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	sign     *signing.Service
	profiles *profile.Service
	sent     *notify.Recorder
	clock    *clock
	policy   *verify.Policy
	notified atomic.Int32
	db       *bbolt.DB
	seal     *signer.Seal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "t.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{sent: &notify.Recorder{}, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	e.profiles, err = profile.New(db, e.sent, profile.Options{Clock: e.clock, Secret: []byte("0123456789abcdef0123456789abcdef"),
		Argon2: profile.Argon2Params{Memory: 64, Time: 1, Threads: 1}, UnsafeFastHashing: true})
	if err != nil {
		t.Fatal(err)
	}
	pki := testpki.New()
	seal, err := signer.NewSeal(pki.EC256.Key, pki.EC256.Chain)
	if err != nil {
		t.Fatal(err)
	}
	e.db, e.seal = db, seal
	e.sign = signing.New(db, e.profiles, seal, signing.Options{Clock: e.clock,
		Notify: func(context.Context, signing.Request) { e.notified.Add(1) }})
	e.policy = &verify.Policy{Roots: []*x509.Certificate{pki.Root}, Now: e.clock.Now}
	return e
}

// holder makes an active profile and returns its id.
func (e *env) holder(t *testing.T, login, pesel string) string {
	t.Helper()
	r, err := e.profiles.Register(ctx, profile.Application{Login: login, Password: "Dobre-Haslo-2026", FirstName: "Anna",
		Surname: "Testowa", PESEL: pesel, Email: login + "@example.test", Phone: "+48500100200", CodeChannel: profile.ChannelEmail})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.profiles.ConfirmContact(ctx, r.ID, e.code(t, login)); err != nil {
		t.Fatal(err)
	}
	o, err := e.profiles.CreateOfficer(ctx, "urzednik-"+login, "Urzednik-Test-2026!", "Urzędnik")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.profiles.ConfirmInPerson(ctx, o.ID, r.ApplicationNumber, profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"}); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func (e *env) code(t *testing.T, login string) string {
	t.Helper()
	m, ok := e.sent.Last(login + "@example.test")
	if !ok || m.Code == "" {
		t.Fatalf("no code for %s", login)
	}
	return m.Code
}

const prescription = `<?xml version="1.0" encoding="UTF-8"?><recepta xmlns="urn:example"><lek>Amoxicillinum 500 mg</lek></recepta>`

func TestXMLFlow(t *testing.T) {
	e := newEnv(t)
	anna := e.holder(t, "anna", "44051401359")
	req, err := e.sign.Submit(ctx, "client-1", signing.Submission{Document: []byte(prescription), FileName: "recepta.xml",
		SuccessURL: "https://rx.example/ok", FailureURL: "https://rx.example/fail"})
	if err != nil {
		t.Fatal(err)
	}
	if req.Format != "xades" || req.Status != store.RequestPending || req.Phrase == "" {
		t.Fatalf("request %+v", req)
	}
	if _, _, err := e.sign.SignedDocument(ctx, "client-1", req.ID); !errors.Is(err, signing.ErrNotReady) {
		t.Fatalf("document before signing: %v", err)
	}
	if _, err := e.sign.Get(ctx, "client-2", req.ID); !errors.Is(err, signing.ErrNotFound) {
		t.Fatalf("another client sees the request: %v", err)
	}
	p, err := e.sign.Preview(ctx, anna, req.ID)
	if err != nil || string(p.Documents[0]) != prescription {
		t.Fatalf("preview: %v", err)
	}
	info, err := e.sign.RequestCode(ctx, anna, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Phrase != p.Phrase {
		t.Errorf("the code message's phrase %q differs from the preview's %q", info.Phrase, p.Phrase)
	}
	code := e.code(t, "anna")
	// a wrong code is refused and nothing is signed
	if _, err := e.sign.Confirm(ctx, anna, req.ID, "000000"); !errors.Is(err, profile.ErrInvalidCode) {
		t.Fatalf("wrong code: %v", err)
	}
	if _, err := e.sign.Confirm(ctx, anna, req.ID, code); err != nil {
		t.Fatal(err)
	}
	signed, ct, err := e.sign.SignedDocument(ctx, "client-1", req.ID)
	if err != nil || ct != "application/xml" {
		t.Fatalf("signed document: %v %s", err, ct)
	}
	rep := verify.XML("recepta.xml", signed, e.policy, verify.XMLOptions{})
	if rep.Indication != verify.TotalPassed || rep.Signatures[0].TrustedProfile == nil || rep.Signatures[0].TrustedProfile.PESEL != "44051401359" {
		t.Fatalf("report %+v", rep)
	}
	if rep.Signatures[0].TrustedProfile.ProfileID != anna {
		t.Errorf("profile id %q, want %q", rep.Signatures[0].TrustedProfile.ProfileID, anna)
	}
	if _, err := e.sign.Confirm(ctx, anna, req.ID, code); !errors.Is(err, signing.ErrClosed) {
		t.Errorf("replay: %v", err)
	}
	if e.notified.Load() != 1 {
		t.Errorf("notifications: %d", e.notified.Load())
	}
}

func TestPDFAndBatch(t *testing.T) {
	e := newEnv(t)
	anna := e.holder(t, "anna", "44051401359")
	pdfDoc := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	reqs, err := e.sign.SubmitBatch(ctx, "c", []signing.Submission{
		{Document: pdfDoc, FileName: "wniosek.pdf"},
		{Document: []byte(prescription), FileName: "recepta.xml"},
		{Document: []byte{0x89, 'P', 'N', 'G', 1, 2, 3}, FileName: "skan.png"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if reqs[0].Format != "pades" || reqs[0].BatchID == "" || reqs[0].BatchID != reqs[2].BatchID {
		t.Fatalf("batch %+v", reqs)
	}
	if _, err := e.sign.RequestCode(ctx, anna, reqs[1].ID); err != nil {
		t.Fatal(err)
	}
	done, err := e.sign.Confirm(ctx, anna, reqs[2].ID, e.code(t, "anna"))
	if err != nil || len(done) != 3 {
		t.Fatalf("one code for the batch: %v (%d signed)", err, len(done))
	}
	pdfSigned, ct, _ := e.sign.SignedDocument(ctx, "c", reqs[0].ID)
	if ct != "application/pdf" {
		t.Fatalf("content type %s", ct)
	}
	rep := verify.PDF(ctx, bytesReader(pdfSigned), int64(len(pdfSigned)), e.policy)
	if rep.Indication != verify.TotalPassed || rep.Signatures[0].TrustedProfile == nil {
		t.Fatalf("PDF report %+v", rep)
	}
	png, _, _ := e.sign.SignedDocument(ctx, "c", reqs[2].ID)
	rep = verify.XML("skan.xml", png, e.policy, verify.XMLOptions{})
	if rep.Indication != verify.TotalPassed || rep.Signatures[0].WrappedFile == nil || rep.Signatures[0].WrappedFile.Name != "skan.png" {
		t.Fatalf("wrapped report %+v", rep)
	}
}

func TestRulesOfTheFlow(t *testing.T) {
	e := newEnv(t)
	anna := e.holder(t, "anna", "44051401359")
	piotr := e.holder(t, "piotr", "02270803624")
	sub := signing.Submission{Document: []byte(prescription), FileName: "r.xml"}

	t.Run("another holder cannot take over a request", func(t *testing.T) {
		req, _ := e.sign.Submit(ctx, "c", sub)
		if _, err := e.sign.RequestCode(ctx, anna, req.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sign.Preview(ctx, piotr, req.ID); !errors.Is(err, signing.ErrOtherHolder) {
			t.Errorf("preview by another holder: %v", err)
		}
		if _, err := e.sign.Confirm(ctx, piotr, req.ID, e.code(t, "anna")); !errors.Is(err, signing.ErrOtherHolder) {
			t.Errorf("confirm by another holder with the right code: %v", err)
		}
	})
	t.Run("a code for one request does not sign another", func(t *testing.T) {
		a, _ := e.sign.Submit(ctx, "c", sub)
		b, _ := e.sign.Submit(ctx, "c", signing.Submission{Document: []byte(prescription + " "), FileName: "r.xml"})
		e.clock.Add(2 * time.Second)
		if _, err := e.sign.RequestCode(ctx, anna, a.ID); err != nil {
			t.Fatal(err)
		}
		codeA := e.code(t, "anna")
		e.clock.Add(2 * time.Second)
		if _, err := e.sign.RequestCode(ctx, anna, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sign.Confirm(ctx, anna, b.ID, codeA); err == nil {
			t.Error("a code issued for request A signed request B")
		}
	})
	t.Run("expired request", func(t *testing.T) {
		req, _ := e.sign.Submit(ctx, "c", sub)
		e.clock.Add(2 * time.Second)
		if _, err := e.sign.RequestCode(ctx, anna, req.ID); err != nil {
			t.Fatal(err)
		}
		code := e.code(t, "anna")
		e.clock.Add(2 * time.Hour)
		defer e.clock.Add(-2 * time.Hour)
		if _, err := e.sign.Confirm(ctx, anna, req.ID, code); !errors.Is(err, signing.ErrClosed) {
			t.Errorf("expired: %v", err)
		}
		if r, _ := e.sign.Get(ctx, "c", req.ID); r.Status != store.RequestExpired {
			t.Errorf("status %s", r.Status)
		}
		if n, _, err := e.sign.Sweep(ctx, time.Hour); err != nil || n == 0 {
			t.Errorf("sweep: %d %v", n, err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		req, _ := e.sign.Submit(ctx, "c", sub)
		if r, err := e.sign.Cancel(ctx, anna, req.ID); err != nil || r.Status != store.RequestCancelled {
			t.Fatalf("cancel: %v %s", err, r.Status)
		}
		if _, err := e.sign.RequestCode(ctx, anna, req.ID); !errors.Is(err, signing.ErrClosed) {
			t.Errorf("code after cancel: %v", err)
		}
	})
	t.Run("two concurrent confirmations sign once", func(t *testing.T) {
		req, _ := e.sign.Submit(ctx, "c", sub)
		e.clock.Add(2 * time.Second) // codes of one purpose are at least a second apart
		if _, err := e.sign.RequestCode(ctx, anna, req.ID); err != nil {
			t.Fatal(err)
		}
		code := e.code(t, "anna")
		var ok atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.sign.Confirm(ctx, anna, req.ID, code); err == nil {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Errorf("%d confirmations succeeded, want exactly 1", ok.Load())
		}
	})
	t.Run("invalid submissions", func(t *testing.T) {
		for _, s := range []signing.Submission{
			{},
			{Document: []byte(prescription), Format: "pades"},
			{Document: []byte(prescription), Format: "docx"},
			{Document: []byte(prescription), SuccessURL: "javascript:alert(1)"},
			{Document: make([]byte, 11<<20)},
		} {
			if _, err := e.sign.Submit(ctx, "c", s); err == nil {
				t.Errorf("accepted %+v", s.Format)
			}
		}
	})
}

// Two holders asking for a code on the same request at once (the binding rides in the code's commit, see
// RequestCode): exactly one is bound and gets a code, the other is refused and gets none; the code works.
func TestRequestCodeRaceBindsOneHolder(t *testing.T) {
	e := newEnv(t)
	holders := map[string]string{"anna": e.holder(t, "anna", "44051401359"), "piotr": e.holder(t, "piotr", "02270803624")}
	for round := range 8 {
		e.clock.Add(2 * time.Second) // one code a second per holder
		req, err := e.sign.Submit(ctx, "c", signing.Submission{Document: []byte(prescription), FileName: "r.xml"})
		if err != nil {
			t.Fatal(err)
		}
		sentBefore := map[string]string{}
		for login := range holders {
			if m, ok := e.sent.Last(login + "@example.test"); ok {
				sentBefore[login] = m.Code
			}
		}
		errs := map[string]error{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for login, id := range holders {
			wg.Go(func() {
				_, err := e.sign.RequestCode(ctx, id, req.ID)
				mu.Lock()
				errs[login] = err
				mu.Unlock()
			})
		}
		wg.Wait()
		var winner string
		for login, err := range errs {
			switch {
			case err == nil && winner == "":
				winner = login
			case err == nil:
				t.Fatalf("round %d: both holders got a code for one request", round)
			case !errors.Is(err, signing.ErrOtherHolder):
				t.Fatalf("round %d: %s: %v", round, login, err)
			}
		}
		if winner == "" {
			t.Fatalf("round %d: no holder got a code: %v", round, errs)
		}
		for login := range holders {
			m, _ := e.sent.Last(login + "@example.test")
			if login != winner && m.Code != sentBefore[login] {
				t.Fatalf("round %d: the refused holder %s was sent a code", round, login)
			}
		}
		for login, id := range holders {
			if login == winner {
				continue
			}
			if _, err := e.sign.Preview(ctx, id, req.ID); !errors.Is(err, signing.ErrOtherHolder) {
				t.Fatalf("round %d: the refused holder sees the request: %v", round, err)
			}
		}
		if _, err := e.sign.Confirm(ctx, holders[winner], req.ID, e.code(t, winner)); err != nil {
			t.Fatalf("round %d: the bound holder's confirmation: %v", round, err)
		}
	}
}

// TestIDsClusterByTime: request ids made close in time share their first characters (so the store keeps the
// requests in flight on a few pages), ids made later sort apart, and the rest is random: no two ids repeat, and
// ids made in the same millisecond still differ in their random part.
func TestIDsClusterByTime(t *testing.T) {
	e := newEnv(t)
	submit := func() string {
		t.Helper()
		r, err := e.sign.Submit(ctx, "client-1", signing.Submission{Document: []byte(prescription), FileName: "recepta.xml"})
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[a-z2-7]{32}$`).MatchString(r.ID) {
			t.Fatalf("id %q is not 32 characters of lower-case base32", r.ID)
		}
		return r.ID
	}
	a, b := submit(), submit() // the same millisecond (the test clock stands still)
	if a == b || a[:9] != b[:9] || a[10:] == b[10:] {
		t.Errorf("ids in one millisecond: %s and %s (want the same 48-bit time prefix and different random parts)", a, b)
	}
	e.clock.Add(300 * time.Millisecond)
	c := submit()
	if a[:6] != c[:6] {
		t.Errorf("ids 300 ms apart do not share their first 30 bits: %s and %s", a, c)
	}
	e.clock.Add(30 * 24 * time.Hour)
	if d := submit(); d[:6] == a[:6] {
		t.Errorf("ids a month apart share their first 30 bits: %s and %s", a, d)
	}
}
