package profile_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store/bbolt"
)

func wrongCode(c string) string {
	b := []byte(c)
	b[len(b)-1] = '0' + (b[len(b)-1]-'0'+1)%10
	return string(b)
}

func TestContactCodeRules(t *testing.T) {
	const to = "jan_ok@example.test"
	tests := []struct {
		name string
		run  func(t *testing.T, e *env, id string)
	}{
		{"right code once", func(t *testing.T, e *env, id string) {
			c := e.lastCode(t, to)
			if err := e.svc.ConfirmContact(ctx, id, c); err != nil {
				t.Fatal(err)
			}
			wantErr(t, e.svc.ConfirmContact(ctx, id, c), profile.ErrInvalidCode) // single use
		}},
		{"three wrong entries kill the code", func(t *testing.T, e *env, id string) {
			c := e.lastCode(t, to)
			wantErr(t, e.svc.ConfirmContact(ctx, id, wrongCode(c)), profile.ErrInvalidCode)
			wantErr(t, e.svc.ConfirmContact(ctx, id, wrongCode(c)), profile.ErrInvalidCode)
			err := e.svc.ConfirmContact(ctx, id, wrongCode(c))
			wantErr(t, err, profile.ErrCodeKilled)
			wantErr(t, err, profile.ErrInvalidCode)
			wantErr(t, e.svc.ConfirmContact(ctx, id, c), profile.ErrInvalidCode)
		}},
		{"two wrong entries then right", func(t *testing.T, e *env, id string) {
			c := e.lastCode(t, to)
			e.svc.ConfirmContact(ctx, id, wrongCode(c))
			e.svc.ConfirmContact(ctx, id, "abc")
			if err := e.svc.ConfirmContact(ctx, id, c); err != nil {
				t.Fatal(err)
			}
		}},
		{"expired after 5 minutes", func(t *testing.T, e *env, id string) {
			c := e.lastCode(t, to)
			e.clock.Advance(5 * time.Minute)
			wantErr(t, e.svc.ConfirmContact(ctx, id, c), profile.ErrCodeExpired)
		}},
		{"valid just before 5 minutes", func(t *testing.T, e *env, id string) {
			c := e.lastCode(t, to)
			e.clock.Advance(5*time.Minute - time.Second)
			if err := e.svc.ConfirmContact(ctx, id, c); err != nil {
				t.Fatal(err)
			}
		}},
		{"resend supersedes the previous code", func(t *testing.T, e *env, id string) {
			old := e.lastCode(t, to)
			e.clock.Advance(2 * time.Second)
			if err := e.svc.ResendContactCode(ctx, id); err != nil {
				t.Fatal(err)
			}
			fresh := e.lastCode(t, to)
			if fresh == old {
				t.Skip("the same code drawn twice (1 in a million)")
			}
			wantErr(t, e.svc.ConfirmContact(ctx, id, old), profile.ErrInvalidCode)
			if err := e.svc.ConfirmContact(ctx, id, fresh); err != nil {
				t.Fatal(err)
			}
		}},
		{"resend after a killed code", func(t *testing.T, e *env, id string) {
			c := e.lastCode(t, to)
			for i := 0; i < 3; i++ {
				e.svc.ConfirmContact(ctx, id, wrongCode(c))
			}
			e.clock.Advance(2 * time.Second)
			if err := e.svc.ResendContactCode(ctx, id); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.ConfirmContact(ctx, id, e.lastCode(t, to)); err != nil {
				t.Fatal(err)
			}
		}},
		{"immediate resend is throttled", func(t *testing.T, e *env, id string) {
			err := e.svc.ResendContactCode(ctx, id)
			var te *profile.ThrottledError
			if !errors.As(err, &te) || te.RetryAfter <= 0 || te.RetryAfter > time.Second {
				t.Fatalf("error %v, want a short throttle", err)
			}
		}},
		{"at most 10 codes per 15 minutes", func(t *testing.T, e *env, id string) {
			for i := 0; i < 9; i++ {
				e.clock.Advance(2 * time.Second)
				if err := e.svc.ResendContactCode(ctx, id); err != nil {
					t.Fatalf("resend %d: %v", i, err)
				}
			}
			e.clock.Advance(2 * time.Second)
			err := e.svc.ResendContactCode(ctx, id)
			var te *profile.ThrottledError
			if !errors.As(err, &te) || te.RetryAfter < 14*time.Minute {
				t.Fatalf("11th code in 15 minutes: %v", err)
			}
			e.clock.Advance(15 * time.Minute)
			if err := e.svc.ResendContactCode(ctx, id); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		}},
		{"20 wrong entries a day block the profile's codes", func(t *testing.T, e *env, id string) {
			for i := 0; i < 20; i++ {
				e.clock.Advance(2 * time.Second)
				if i%3 == 0 {
					if err := e.svc.ResendContactCode(ctx, id); err != nil {
						t.Fatalf("resend: %v", err)
					}
				}
				if err := e.svc.ConfirmContact(ctx, id, wrongCode(e.lastCode(t, to))); errors.Is(err, profile.ErrThrottled) {
					t.Fatalf("throttled after %d wrong entries", i)
				}
			}
			e.clock.Advance(2 * time.Second)
			wantErr(t, e.svc.ResendContactCode(ctx, id), profile.ErrThrottled)
			wantErr(t, e.svc.ConfirmContact(ctx, id, "000000"), profile.ErrThrottled)
			e.clock.Advance(24 * time.Hour)
			if err := e.svc.ResendContactCode(ctx, id); err != nil {
				t.Fatalf("a day later: %v", err)
			}
		}},
		{"unknown profile answers like a wrong code", func(t *testing.T, e *env, id string) {
			wantErr(t, e.svc.ConfirmContact(ctx, "no-such-profile", "123456"), profile.ErrInvalidCode)
			if err := e.svc.ResendContactCode(ctx, "no-such-profile"); err != nil {
				t.Fatal(err)
			}
		}},
		{"wrong length or letters count as wrong", func(t *testing.T, e *env, id string) {
			c := e.lastCode(t, to)
			e.svc.ConfirmContact(ctx, id, c+"0")
			e.svc.ConfirmContact(ctx, id, "12a456")
			wantErr(t, e.svc.ConfirmContact(ctx, id, ""), profile.ErrCodeKilled)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.register(t, "jan_ok", pesel)
			tc.run(t, e, r.ID)
		})
	}
}

func TestCodesAreUniformAndLongEnough(t *testing.T) {
	e := newEnv(t, func(o *profile.Options) {
		o.Codes.Digits = 8
		o.Codes.MaxIssues = 1000
		o.Messages.PerDestination = 1000
	})
	r := e.register(t, "jan_ok", pesel)
	var counts [10]int
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c := e.lastCode(t, "jan_ok@example.test")
		if len(c) != 8 {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
		for _, d := range c {
			counts[d-'0']++
		}
		e.clock.Advance(time.Second)
		if err := e.svc.ResendContactCode(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) < 199 {
		t.Fatalf("only %d distinct codes of 200", len(seen))
	}
	for d, n := range counts {
		if n < 100 || n > 220 { // 1600 digits, 160 expected each
			t.Errorf("digit %d drawn %d times", d, n)
		}
	}
}

func TestConcurrentRedemptionSucceedsOnce(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			e := newEnvWith(t, bbolt.Options{NoBatch: !batch})
			p := e.activeProfile(t, "jan_ok", pesel)
			digest := sha256.Sum256([]byte("<recepta/>"))
			if _, err := e.svc.IssueSigningCode(ctx, p.ID, "req-1", "recepta.xml", digest[:]); err != nil {
				t.Fatal(err)
			}
			code := e.lastCode(t, "jan_ok@example.test")
			var ok, invalid atomic.Int32
			var wg sync.WaitGroup
			startGate := make(chan struct{})
			for g := 0; g < 16; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-startGate
					err := e.svc.RedeemSigningCode(ctx, p.ID, "req-1", digest[:], code)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, profile.ErrInvalidCode):
						invalid.Add(1)
					default:
						t.Error(err)
					}
				}()
			}
			close(startGate)
			wg.Wait()
			if ok.Load() != 1 || invalid.Load() != 15 {
				t.Fatalf("%d successes and %d refusals, want exactly 1 and 15", ok.Load(), invalid.Load())
			}
			n := 0
			for _, r := range e.auditRecords(t) {
				if r.Kind == "code.redeem" && r.Details["purpose"] == "sign" {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d redemptions audited", n)
			}
		})
	}
}

func TestSigningCodeIsBoundToRequestAndDigest(t *testing.T) {
	e := newEnv(t)
	p := e.activeProfile(t, "jan_ok", pesel)
	d1 := sha256.Sum256([]byte("document one"))
	d2 := sha256.Sum256([]byte("document two"))
	info, err := e.svc.IssueSigningCode(ctx, p.ID, "req-1", "recepta\u202e.xml\n", d1[:])
	if err != nil {
		t.Fatal(err)
	}
	m, _ := e.sent.Last("jan_ok@example.test")
	if info.Phrase != profile.VerificationPhrase(d1[:]) || !strings.Contains(m.Body, strings.ToUpper(profile.DisplayPhrase(info.Phrase))) ||
		!strings.Contains(m.Body, "„recepta.xml”") || !strings.Contains(m.Body, m.Code) || !info.Expires.Equal(start.Add(5*time.Minute)) {
		t.Fatalf("info %+v, message %q", info, m.Body)
	}
	tests := []struct {
		name   string
		req    string
		digest []byte
		want   error
	}{
		{"other request", "req-2", d1[:], profile.ErrCodeMismatch},
		{"other document", "req-1", d2[:], profile.ErrCodeMismatch},
	}
	for _, tc := range tests {
		wantErr(t, e.svc.RedeemSigningCode(ctx, p.ID, tc.req, tc.digest, m.Code), tc.want)
	}
	// two mismatches count as wrong entries: the third attempt of any kind is the last
	wantErr(t, e.svc.RedeemSigningCode(ctx, p.ID, "req-1", d1[:], wrongCode(m.Code)), profile.ErrCodeKilled)
	wantErr(t, e.svc.RedeemSigningCode(ctx, p.ID, "req-1", d1[:], m.Code), profile.ErrInvalidCode)

	// a new code for another document replaces the previous signing code
	e.clock.Advance(2 * time.Second)
	e.svc.IssueSigningCode(ctx, p.ID, "req-1", "a.xml", d1[:])
	c1 := e.lastCode(t, "jan_ok@example.test")
	e.clock.Advance(2 * time.Second)
	e.svc.IssueSigningCode(ctx, p.ID, "req-2", "b.xml", d2[:])
	c2 := e.lastCode(t, "jan_ok@example.test")
	wantErr(t, e.svc.RedeemSigningCode(ctx, p.ID, "req-1", d1[:], c1), profile.ErrInvalidCode)
	if err := e.svc.RedeemSigningCode(ctx, p.ID, "req-2", d2[:], c2); err != nil {
		t.Fatal(err)
	}
	// codes belong to one profile
	q := e.activeProfile(t, "ewa_ok", peselBorn(time.Date(1985, 5, 5, 0, 0, 0, 0, time.UTC), "2222"))
	e.clock.Advance(2 * time.Second)
	e.svc.IssueSigningCode(ctx, p.ID, "req-3", "c.xml", d1[:])
	c3 := e.lastCode(t, "jan_ok@example.test")
	wantErr(t, e.svc.RedeemSigningCode(ctx, q.ID, "req-3", d1[:], c3), profile.ErrInvalidCode)
	// a contact code does not sign
	wantErr(t, e.svc.ConfirmContact(ctx, p.ID, c3), profile.ErrInvalidCode)
	if _, err := e.svc.IssueSigningCode(ctx, p.ID, "req-4", "x", []byte("short")); !errors.Is(err, profile.ErrInvalid) {
		t.Fatalf("short digest: %v", err)
	}
}

func TestBatchSigningCode(t *testing.T) {
	e := newEnv(t)
	p := e.activeProfile(t, "jan_ok", pesel)
	var docs []profile.SigningDocument
	for i := 0; i < 3; i++ {
		d := sha256.Sum256([]byte(fmt.Sprint("doc", i)))
		docs = append(docs, profile.SigningDocument{RequestID: fmt.Sprint("req-", i), Name: fmt.Sprintf("skierowanie-%d.pdf", i), Digest: d[:]})
	}
	info, err := e.svc.IssueBatchSigningCode(ctx, p.ID, docs)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := e.sent.Last("jan_ok@example.test")
	if !strings.Contains(m.Body, "3 dokumentów") || !strings.Contains(m.Body, "skierowanie-2.pdf") || info.Phrase == "" {
		t.Fatalf("batch message %q", m.Body)
	}
	wantErr(t, e.svc.RedeemBatchSigningCode(ctx, p.ID, docs[:2], m.Code), profile.ErrCodeMismatch)
	reversed := []profile.SigningDocument{docs[2], docs[1], docs[0]}
	if err := e.svc.RedeemBatchSigningCode(ctx, p.ID, reversed, m.Code); err != nil {
		t.Fatal(err)
	}
	dup := []profile.SigningDocument{docs[0], docs[0]}
	if _, err := e.svc.IssueBatchSigningCode(ctx, p.ID, dup); !errors.Is(err, profile.ErrInvalid) {
		t.Fatalf("duplicate request ids: %v", err)
	}
}

func TestSigningNeedsAnActiveProfile(t *testing.T) {
	e := newEnv(t)
	r := e.register(t, "jan_ok", pesel)
	d := sha256.Sum256([]byte("x"))
	if _, err := e.svc.IssueSigningCode(ctx, r.ID, "req", "x.xml", d[:]); !errors.Is(err, profile.ErrNotActive) {
		t.Fatalf("pending profile: %v", err)
	}
	p := e.activeProfile(t, "ewa_ok", peselBorn(time.Date(1985, 5, 5, 0, 0, 0, 0, time.UTC), "2222"))
	e.svc.IssueSigningCode(ctx, p.ID, "req", "x.xml", d[:])
	c := e.lastCode(t, "ewa_ok@example.test")
	if err := e.svc.Revoke(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.svc.RedeemSigningCode(ctx, p.ID, "req", d[:], c), profile.ErrInvalidCode)
	if _, err := e.svc.IssueSigningCode(ctx, "nobody", "req", "x.xml", d[:]); !errors.Is(err, profile.ErrNotFound) {
		t.Fatalf("unknown profile: %v", err)
	}
}

func TestVerificationPhrase(t *testing.T) {
	d := sha256.Sum256([]byte("<recepta/>"))
	p := profile.VerificationPhrase(d[:])
	if len(strings.Fields(p)) != 3 || p != profile.VerificationPhrase(d[:]) {
		t.Fatalf("phrase %q", p)
	}
	for _, w := range strings.Fields(p) {
		for _, r := range w {
			if r < 'a' || r > 'z' {
				t.Fatalf("word %q is not plain ASCII (SMS)", w)
			}
		}
	}
	// a different document almost always gives a different phrase (24 bits)
	same := 0
	for i := 0; i < 2000; i++ {
		o := sha256.Sum256([]byte(fmt.Sprint(i)))
		if profile.VerificationPhrase(o[:]) == p {
			same++
		}
	}
	if same > 1 {
		t.Fatalf("%d of 2000 other documents share the phrase", same)
	}
	// the three words always differ, and the screen spells them with Polish letters (never ASCII-folded)
	for i := 0; i < 20000; i++ {
		o := sha256.Sum256([]byte(fmt.Sprint("doc", i)))
		ws := strings.Fields(profile.VerificationPhrase(o[:]))
		if len(ws) != 3 || ws[0] == ws[1] || ws[0] == ws[2] || ws[1] == ws[2] {
			t.Fatalf("phrase %v repeats a word", ws)
		}
	}
	if got := profile.DisplayPhrase("golab zolw kot"); got != "gołąb żółw kot" {
		t.Errorf("DisplayPhrase = %q", got)
	}
	if profile.VerificationPhrase(d[:], d[:]) == p {
		t.Fatal("a batch has the phrase of one of its documents")
	}
}
