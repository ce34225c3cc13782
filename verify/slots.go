package verify

import (
	"context"
	"errors"
	"runtime"
	"time"
)

// ErrBusy is returned by Slots.Acquire when every verification slot stayed taken for the whole wait, or when too
// many callers already wait: the caller should answer "try again later" (HTTP 429 with Retry-After).
var ErrBusy = errors.New("verify: all verification slots are busy")

// SlotsOptions configures NewSlots.
type SlotsOptions struct {
	// Slots is how many verifications may run at once (default: the number of CPUs).
	Slots int
	// Wait is how long a verification may queue for a slot before ErrBusy (default 5 s).
	Wait time.Duration
	// MaxQueue is how many callers may wait at once; more get ErrBusy at once (default 4 per slot).
	MaxQueue int
	// MaxDuration bounds one verification: the context Acquire returns ends then (default 30 s).
	MaxDuration time.Duration
}

// Slots bounds the verifications of untrusted files that run at once, so that their memory and CPU stay within
// what the process can give: a verification of a large XML file holds a parsed tree of many times its size
// (bounded by xmldoc's limits), and only a few such trees may be alive together. The API and the web pages share
// one Slots. A nil *Slots bounds nothing.
type Slots struct {
	run, queue chan struct{}
	// inflight bounds the requests admitted (reading their body, queued or running): Admit
	inflight chan struct{}
	opts     SlotsOptions
}

// NewSlots returns a limiter with o's bounds.
func NewSlots(o SlotsOptions) *Slots {
	if o.Slots <= 0 {
		o.Slots = runtime.NumCPU()
	}
	if o.Wait <= 0 {
		o.Wait = 5 * time.Second
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = 4 * o.Slots
	}
	if o.MaxDuration <= 0 {
		o.MaxDuration = 30 * time.Second
	}
	return &Slots{run: make(chan struct{}, o.Slots), queue: make(chan struct{}, o.MaxQueue),
		inflight: make(chan struct{}, 2*(o.Slots+o.MaxQueue)), opts: o}
}

// Admit takes a place for a request before its body is read: at most twice the slots and the queue are admitted
// at once, so that the bodies held in memory while waiting are bounded too (each up to the document limit), not
// only the verifications running. ErrBusy when full (answer 429 without reading the body); call release when
// the request is done.
func (s *Slots) Admit() (release func(), err error) {
	if s == nil {
		return func() {}, nil
	}
	select {
	case s.inflight <- struct{}{}:
		return func() { <-s.inflight }, nil
	default:
		return nil, ErrBusy
	}
}

// RetryAfter is a fair wait to suggest to a caller refused with ErrBusy.
func (s *Slots) RetryAfter() time.Duration {
	if s == nil {
		return time.Second
	}
	return s.opts.Wait
}

// Acquire takes a slot, waiting at most the configured Wait (and not past ctx). It returns the context the
// verification must run under (ctx bounded by MaxDuration) and the function that frees the slot, or ErrBusy, or
// ctx's error.
func (s *Slots) Acquire(ctx context.Context) (context.Context, func(), error) {
	if s == nil {
		return ctx, func() {}, nil
	}
	select {
	case s.run <- struct{}{}:
	default:
		select {
		case s.queue <- struct{}{}:
		default:
			return nil, nil, ErrBusy
		}
		t := time.NewTimer(s.opts.Wait)
		defer t.Stop()
		select {
		case s.run <- struct{}{}:
			<-s.queue
		case <-t.C:
			<-s.queue
			return nil, nil, ErrBusy
		case <-ctx.Done():
			<-s.queue
			return nil, nil, ctx.Err()
		}
	}
	vctx, cancel := context.WithTimeout(ctx, s.opts.MaxDuration)
	return vctx, func() { cancel(); <-s.run }, nil
}
