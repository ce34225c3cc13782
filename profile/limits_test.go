package profile_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/trustsign/trustsign/profile"
)

// A holder's own messages (signing codes, officers' notices) have a budget per destination of their own: a holder
// whose address had 10 of them this hour gets no more signing codes (429 for the holder, who is authenticated)
// until the hour moves on. They count towards the destination's messages of any kind, so anonymous flows send
// nothing more to it then.
func TestMessagesLimitedPerDestinationAcrossKinds(t *testing.T) {
	e := newEnv(t, func(o *profile.Options) { o.Codes.MaxIssues = 100 })
	p := e.activeProfile(t, "jan_ok", pesel) // a contact code (anonymous) and a status notice (holder's): 2 messages
	digest := bytes.Repeat([]byte{7}, 32)
	to := "jan_ok@example.test"
	for i := 0; i < 9; i++ {
		e.clock.Advance(2 * time.Second)
		if _, err := e.svc.IssueSigningCode(ctx, p.ID, fmt.Sprint("req", i), "a.xml", digest); err != nil {
			t.Fatalf("signing code %d: %v", i, err)
		}
	}
	if n := len(e.sent.Messages()); n != 11 {
		t.Fatalf("%d messages, want 11", n)
	}
	e.clock.Advance(2 * time.Second)
	_, err := e.svc.IssueSigningCode(ctx, p.ID, "req9", "a.xml", digest)
	var te *profile.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter <= 0 || te.RetryAfter > time.Hour {
		t.Fatalf("11th holder's message to %s: %v, want a throttle", to, err)
	}
	if n := len(e.sent.Messages()); n != 11 {
		t.Fatalf("%d messages sent past the limit", n-11)
	}
	// the limit lives in the store: a new service on the same store (a restart) keeps it
	svc, err := profile.New(e.db, e.sent, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.IssueSigningCode(ctx, p.ID, "req10", "a.xml", digest); !errors.Is(err, profile.ErrThrottled) {
		t.Fatalf("after a restart: %v", err)
	}
	e.clock.Advance(time.Hour)
	if _, err := svc.IssueSigningCode(ctx, p.ID, "req11", "a.xml", digest); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
	// anonymous flows are not told: once the destination had its messages, a registration naming it answers as
	// usual and sends nothing
	for i := 0; i < 9; i++ {
		e.clock.Advance(2 * time.Second)
		if _, err := svc.IssueSigningCode(ctx, p.ID, fmt.Sprint("more", i), "a.xml", digest); err != nil {
			t.Fatalf("signing code %d of the new hour: %v", i, err)
		}
	}
	a := app("ewa_ok", "02211307589")
	a.Email = to
	before := len(e.sent.Messages())
	if _, err := svc.Register(ctx, a); err != nil {
		t.Fatalf("registration to a full destination: %v", err)
	}
	svc.WaitForDeliveries()
	if n := len(e.sent.Messages()) - before; n != 0 {
		t.Fatalf("%d messages past the limit", n)
	}
}

// Anonymous callers have the destination's PerDestination messages an hour, and not one of the holder's.
func TestAnonymousMessagesLimitedPerDestination(t *testing.T) {
	e := newEnv(t, func(o *profile.Options) { o.Codes.MaxIssues = 100 })
	p := e.activeProfile(t, "jan_ok", pesel)
	e.clock.Advance(time.Hour) // the registration's messages behind
	before := len(e.sent.Messages())
	for i := 0; i < 15; i++ {
		e.clock.Advance(2 * time.Second)
		if err := e.svc.RequestPasswordReset(ctx, "jan_ok"); err != nil {
			t.Fatal(err)
		}
		e.svc.WaitForDeliveries()
	}
	if n := len(e.sent.Messages()) - before; n != 10 {
		t.Fatalf("%d reset codes in an hour, want 10", n)
	}
	if _, err := e.svc.IssueSigningCode(ctx, p.ID, "req", "a.xml", bytes.Repeat([]byte{7}, 32)); err != nil {
		t.Fatalf("the holder's signing code after anonymous messages: %v", err)
	}
}

func TestAllowFromPerAddress(t *testing.T) {
	e := newEnv(t, func(o *profile.Options) { o.Messages.RegistrationsPerAddress, o.Messages.ResendsPerAddress = 3, 2 })
	tests := []struct {
		action profile.Action
		limit  int
	}{
		{profile.ActionRegister, 3},
		{profile.ActionResend, 2},
	}
	for _, tc := range tests {
		t.Run(string(tc.action), func(t *testing.T) {
			for i := 0; i < tc.limit; i++ {
				if err := e.svc.AllowFrom(ctx, tc.action, "192.0.2.1"); err != nil {
					t.Fatalf("attempt %d: %v", i, err)
				}
			}
			wantErr(t, e.svc.AllowFrom(ctx, tc.action, "192.0.2.1"), profile.ErrThrottled)
			if err := e.svc.AllowFrom(ctx, tc.action, "192.0.2.2"); err != nil {
				t.Fatalf("another address: %v", err)
			}
		})
	}
	svc, _ := profile.New(e.db, e.sent, e.opts)
	wantErr(t, svc.AllowFrom(ctx, profile.ActionRegister, "192.0.2.1"), profile.ErrThrottled)
	e.clock.Advance(time.Hour + time.Second)
	if err := svc.AllowFrom(ctx, profile.ActionRegister, "192.0.2.1"); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
	// the sweep drops windows idle for longer than the longest one
	e.clock.Advance(25 * time.Hour)
	if r, err := svc.Sweep(ctx); err != nil || r.DeletedRateWindows == 0 {
		t.Fatalf("sweep: %+v %v", r, err)
	}
}

// A signing code the destination limit refuses is not issued at all: the holder's last code, the one they received,
// still signs its document, and nothing was recorded for the refused one (no code, no audit event, no issue count).
func TestDestinationLimitLeavesTheLastCode(t *testing.T) {
	e := newEnv(t, func(o *profile.Options) { o.Codes.MaxIssues = 100 })
	p := e.activeProfile(t, "jan_ok", pesel) // a contact code and a status notice: 2 of the destination's messages
	digest := bytes.Repeat([]byte{7}, 32)
	to := "jan_ok@example.test"
	for i := 0; i < 9; i++ { // the holder's 10 messages of the hour
		e.clock.Advance(2 * time.Second)
		if _, err := e.svc.IssueSigningCode(ctx, p.ID, fmt.Sprint("req", i), "a.xml", digest); err != nil {
			t.Fatalf("signing code %d: %v", i, err)
		}
	}
	last := e.lastCode(t, to)
	events := len(e.auditRecords(t))
	e.clock.Advance(2 * time.Second)
	if _, err := e.svc.IssueSigningCode(ctx, p.ID, "other", "b.xml", digest); !errors.Is(err, profile.ErrThrottled) {
		t.Fatalf("a signing code past the destination's limit: %v, want a throttle", err)
	}
	if n := len(e.auditRecords(t)); n != events {
		t.Errorf("the refused code left %d audit events", n-events)
	}
	if err := e.svc.RedeemSigningCode(ctx, p.ID, "req8", digest, last); err != nil {
		t.Fatalf("the last code sent, after a refused one: %v", err)
	}
}
