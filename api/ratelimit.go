package api

import (
	"context"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
)

// clientAddr is the key of the client's address for every per-address limit, here and in the profile service:
// its IPv4 address, or its IPv6 /64 (profile.AddressBucket), so one host's 2^64 addresses share one allowance.
func clientAddr(c *gin.Context) string { return profile.AddressBucket(c.ClientIP()) }

// limiter counts events per key (client address, integrator key) in fixed windows: the PESEL lookup limits and the
// anonymous verification limit.
type limiter interface {
	// allow counts one event for key and reports whether it is within limit per period, and if not, how long until
	// the window ends. An error (the shared store does not answer) counts nothing and lets nothing through.
	allow(ctx context.Context, key string, limit int, period time.Duration) (bool, time.Duration, error)
}

// LimitStore keeps the API's rate limits when several nodes share them (*store.DB satisfies it).
type LimitStore interface {
	Update(ctx context.Context, fn func(*store.Tx) error) error
}

// sharedLimiter keeps the windows in the store: the check and the count are one transaction (store.Tx.CountEvent),
// so N nodes on one database allow the limit once, not N times. Ended windows are removed by the store's sweep
// (profile.Service.Sweep, each minute in serve).
type sharedLimiter struct {
	st    LimitStore
	clock Clock
}

// sharedKeyPrefix keeps the API's windows apart from other users of the store's counter windows.
const sharedKeyPrefix = "api:"

func (l sharedLimiter) allow(ctx context.Context, key string, limit int, period time.Duration) (bool, time.Duration, error) {
	now := l.clock.Now()
	var ok bool
	var wait time.Duration
	err := l.st.Update(ctx, func(tx *store.Tx) (err error) {
		ok, wait, err = tx.CountEvent(sharedKeyPrefix+key, limit, period, now)
		return err
	})
	if err != nil {
		return false, 0, err
	}
	return ok, wait, nil
}

// memoryLimiter keeps the windows in this process: exact for one node (bbolt admits one), at no store write per
// request. It bounds memory by dropping windows that have ended, each by its own end, at most once a minute: keys
// live at most a period and a minute after their last window started.
type memoryLimiter struct {
	mu      sync.Mutex
	clock   Clock
	windows map[string]*window
	sweep   time.Time
}

type window struct {
	end time.Time
	n   int
}

func newMemoryLimiter(c Clock) *memoryLimiter {
	return &memoryLimiter{clock: c, windows: map[string]*window{}}
}

// current returns key's live window (nil when it has none) after sweeping ended windows at most once a minute.
// The caller holds mu.
func (l *memoryLimiter) current(key string, now time.Time) *window {
	if now.Sub(l.sweep) > time.Minute {
		for k, w := range l.windows {
			if !now.Before(w.end) {
				delete(l.windows, k)
			}
		}
		l.sweep = now
	}
	w := l.windows[key]
	if w == nil || !now.Before(w.end) {
		return nil
	}
	return w
}

func (l *memoryLimiter) allow(_ context.Context, key string, limit int, period time.Duration) (bool, time.Duration, error) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.current(key, now)
	if w == nil {
		w = &window{end: now.Add(period)}
		l.windows[key] = w
	}
	if w.n <= limit { // past the limit the count stays at limit+1, as in the store
		w.n++
	}
	if w.n > limit {
		return false, w.end.Sub(now), nil
	}
	return true, 0, nil
}

// errLimitsUnavailable: the shared limits cannot be read, so the request is refused (a limit that fails open is
// no limit).
var errLimitsUnavailable = newProblem(503, "unavailable", "Service unavailable", "Try again later.")

// allowed counts one event for key within limit per period and answers 429 with Retry-After beyond it (503 when
// the shared limits do not answer); it reports whether the request may go on.
func (s *Server) allowed(c *gin.Context, key string, limit int, period time.Duration) bool {
	ok, wait, err := s.limits.allow(c.Request.Context(), key, limit, period)
	switch {
	case err != nil:
		e := *errLimitsUnavailable
		e.cause = err
		writeProblem(c, &e)
	case !ok:
		tooManyRequests(c, int(wait.Seconds())+1)
	}
	return ok && err == nil
}
