package verify

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Slots let the configured number of verifications run, queue a bounded number of others, and answer ErrBusy
// beyond (the API and the pages then answer 429).
func TestSlots(t *testing.T) {
	s := NewSlots(SlotsOptions{Slots: 2, MaxQueue: 1, Wait: time.Millisecond})
	var releases []func()
	for range 2 {
		ctx, release, err := s.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("a verification's context has no deadline")
		}
		releases = append(releases, release)
	}
	if _, _, err := s.Acquire(context.Background()); !errors.Is(err, ErrBusy) {
		t.Errorf("third verification: %v, want ErrBusy after the wait", err)
	}
	// the queue is full: the next caller is refused at once, whatever its own wait
	long := NewSlots(SlotsOptions{Slots: 1, MaxQueue: 1, Wait: time.Hour})
	_, release, _ := long.Acquire(context.Background())
	queued := make(chan error, 1)
	go func() {
		_, r, err := long.Acquire(context.Background())
		if err == nil {
			r()
		}
		queued <- err
	}()
	for len(long.queue) == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, _, err := long.Acquire(context.Background()); !errors.Is(err, ErrBusy) {
		t.Errorf("with the queue full: %v, want ErrBusy", err)
	}
	release()
	if err := <-queued; err != nil {
		t.Errorf("the queued verification: %v", err)
	}
	// a caller that goes away stops waiting
	_, release, _ = long.Acquire(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := long.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
	release()
	for _, r := range releases {
		r()
	}
	if _, r, err := s.Acquire(context.Background()); err != nil {
		t.Errorf("after release: %v", err)
	} else {
		r()
	}
	// nil bounds nothing
	var none *Slots
	if _, r, err := none.Acquire(context.Background()); err != nil {
		t.Error(err)
	} else {
		r()
	}
}
