package profile

import (
	"context"
	"encoding/hex"
	"errors"
	"net/netip"
	"time"

	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/store"
)

// MessageOptions bound what one destination receives and what one client address may ask for. The counters
// live in the store, so they hold across restarts and across nodes sharing a store.
type MessageOptions struct {
	// PerDestination messages of any kind (codes and notices) to one phone number or e-mail address within
	// DestinationWindow (defaults: 10 per hour). Past it no message that an anonymous caller can trigger
	// (registration and password-reset codes, "someone tried to register" notices) is sent.
	PerDestination    int
	DestinationWindow time.Duration
	// HolderPerDestination bounds, in a budget of their own, the messages anonymous callers cannot trigger: codes
	// a logged-in holder asks for (signing, extension) and notices of an officer's decisions (default 10 per
	// DestinationWindow). They count towards PerDestination too, but are not refused by it, so anonymous floods
	// cannot keep a holder from signing.
	HolderPerDestination int
	// DuplicateNoticeEvery is the least time between two "someone tried to register with your data" notices to
	// one profile (default 24 hours).
	DuplicateNoticeEvery time.Duration
	// RegistrationsPerAddress and ResendsPerAddress bound the anonymous registrations and contact-code resends
	// from one client address within AddressWindow (defaults: 20 and 30 per hour).
	RegistrationsPerAddress int
	ResendsPerAddress       int
	AddressWindow           time.Duration
}

func (o *MessageOptions) setDefaults() {
	setDefault(&o.PerDestination, 10)
	setDefault(&o.DestinationWindow, time.Hour)
	setDefault(&o.HolderPerDestination, 10)
	setDefault(&o.DuplicateNoticeEvery, 24*time.Hour)
	setDefault(&o.RegistrationsPerAddress, 20)
	setDefault(&o.ResendsPerAddress, 30)
	setDefault(&o.AddressWindow, time.Hour)
}

// longest is the longest window kept, for the sweep.
func (o *MessageOptions) longest() time.Duration {
	return max(o.DestinationWindow, o.DuplicateNoticeEvery, o.AddressWindow)
}

// Action is an anonymous action limited per client address.
type Action string

// Actions limited per client address.
const (
	ActionRegister Action = "register"
	ActionResend   Action = "resend"
	// ActionLogin is counted by LoginFrom itself (failed logins over all logins), not through AllowFrom.
	ActionLogin        Action = "login"
	ActionResetRequest Action = "reset-request"
	ActionResetConfirm Action = "reset-confirm"
)

// errDestinationLimit: the destination had its messages for the window; the message was not sent. Anonymous
// flows swallow it (their answer must not depend on it); authenticated ones answer with it.
var errDestinationLimit = errors.New("profile: message limit of the destination reached")

// takeSlot counts one event under key in tx if fewer than limit happened within window, and reports whether it
// did; when not, it also returns how long until a slot frees.
func takeSlot(tx *store.Tx, key string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	w, err := tx.GetRateWindow(key)
	if err != nil {
		return false, 0, err
	}
	w.Times = prune(w.Times, now.Add(-window))
	if len(w.Times) >= limit {
		return false, w.Times[0].Add(window).Sub(now), nil
	}
	w.Times = append(w.Times, now)
	return true, 0, tx.PutRateWindow(w)
}

// rateKey names a counter without putting an address or number in clear in the store.
func (s *Service) rateKey(kind string, parts ...string) string {
	return kind + ":" + hex.EncodeToString(mac(s.keys.token, append([]string{"rate", kind}, parts...)...)[:16])
}

// AddressBucket returns the key under which per-client-address limits count an address: an IPv4 address (also
// IPv4-mapped IPv6) as itself, an IPv6 address as its /64 (the smallest prefix routed to one customer, so one
// host cannot take a fresh allowance per address). Anything else (not an IP address) is returned unchanged.
func AddressBucket(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
}

// AllowFrom counts one anonymous action from a client address (registration, contact-code resend, password-reset
// request and code entry) and returns a *ThrottledError (What "address") past the per-address limit. The answer depends only on the address's own
// count, never on the data submitted. IPv6 addresses count per /64 (AddressBucket). An empty address is not limited.
func (s *Service) AllowFrom(ctx context.Context, action Action, addr string) error {
	if addr == "" {
		return nil
	}
	limit, window := s.o.addressLimit(action)
	now := s.now()
	var wait time.Duration
	err := s.st.Batch(ctx, func(tx *store.Tx) error {
		ok, w, err := takeSlot(tx, s.rateKey("addr", string(action), AddressBucket(addr)), limit, window, now)
		if err == nil && !ok {
			wait = w
		}
		return err
	})
	if err != nil {
		return err
	}
	if wait > 0 {
		return throttled("address", wait)
	}
	return nil
}

// destinationLimiter is one of the service's Senders: every message takes a slot of its destination in the
// store before it goes to the real sender. Anonymous-triggerable messages (holder false) are refused past
// PerDestination messages of any kind; a holder's own messages (holder true) count there too but are refused
// only past HolderPerDestination of their own kind, so an anonymous flood cannot exhaust them.
type destinationLimiter struct {
	s      *Service
	next   Sender
	holder bool
}

// Send implements Sender. Past the limit it sends nothing and returns a *ThrottledError wrapping
// errDestinationLimit.
func (d destinationLimiter) Send(ctx context.Context, m notify.Message) error {
	now := d.s.now()
	var refused error
	err := d.s.st.Batch(ctx, func(tx *store.Tx) error {
		var err error
		refused, err = d.take(tx, m, now)
		return err
	})
	if err != nil {
		return err
	}
	if refused != nil {
		return refused
	}
	return d.next.Send(ctx, m)
}

// take counts m against its destination's limits in the caller's transaction. Past a limit it records nothing
// and returns (as refused, with a nil error) a *ThrottledError wrapping errDestinationLimit; the caller then must
// not send m. Callers that make the message in a transaction of their own (a signing code) take its slot there,
// so that a refused message leaves nothing behind and the flow has one durable write fewer.
func (d destinationLimiter) take(tx *store.Tx, m notify.Message, now time.Time) (refused error, err error) {
	s := d.s
	win := s.o.Messages.DestinationWindow
	all := s.rateKey("dest", string(m.Channel), m.To)
	var ok bool
	var wait time.Duration
	if !d.holder {
		ok, wait, err = takeSlot(tx, all, s.o.Messages.PerDestination, win, now)
	} else {
		ok, wait, err = takeSlot(tx, s.rateKey("dest-holder", string(m.Channel), m.To), s.o.Messages.HolderPerDestination, win, now)
		if err == nil && ok {
			// counted among all messages (which bounds the anonymous ones), never refused by them: the window
			// holds at most PerDestination + HolderPerDestination times
			_, _, err = takeSlot(tx, all, s.o.Messages.PerDestination+s.o.Messages.HolderPerDestination, win, now)
		}
	}
	if err != nil || ok {
		return nil, err
	}
	return errors.Join(throttled("messages", wait), errDestinationLimit), nil
}

// duplicateNoticeDue reports (and records in tx) whether the holder of profileID may be told of another
// registration attempt with their data now: at most one notice per DuplicateNoticeEvery.
func (s *Service) duplicateNoticeDue(tx *store.Tx, profileID string, now time.Time) (bool, error) {
	ok, _, err := takeSlot(tx, s.rateKey("dupnotice", profileID), 1, s.o.Messages.DuplicateNoticeEvery, now)
	return ok, err
}

// addressLimit is how many of an action one client address may take within how long.
func (o *Options) addressLimit(action Action) (int, time.Duration) {
	switch action {
	case ActionResend:
		return o.Messages.ResendsPerAddress, o.Messages.AddressWindow
	case ActionResetRequest:
		return o.Recovery.RequestsPerAddress, o.Recovery.AddressWindow
	case ActionResetConfirm:
		return o.Recovery.ConfirmsPerAddress, o.Recovery.AddressWindow
	case ActionLogin:
		return o.Sessions.LoginFailuresPerAddress, o.Sessions.LoginWindow
	}
	return o.Messages.RegistrationsPerAddress, o.Messages.AddressWindow
}
