package api

import (
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/profile"
)

// clientAddr is the key of the client's address for every per-address limit, here and in the profile service:
// its IPv4 address, or its IPv6 /64 (profile.AddressBucket), so one host's 2^64 addresses share one allowance.
func clientAddr(c *gin.Context) string { return profile.AddressBucket(c.ClientIP()) }

// rateLimiter is a fixed-window counter per key (client address, login, profile). It bounds memory by dropping
// windows that have ended, each by its own end.
type rateLimiter struct {
	mu      sync.Mutex
	clock   Clock
	windows map[string]*window
	sweep   time.Time
}

type window struct {
	end time.Time
	n   int
}

func newRateLimiter(c Clock) *rateLimiter {
	return &rateLimiter{clock: c, windows: map[string]*window{}}
}

// current returns key's live window (nil when it has none) after sweeping ended windows at most once a minute.
// The caller holds mu.
func (l *rateLimiter) current(key string, now time.Time) *window {
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

// allow counts one event for key and reports whether it is within limit per period, and if not, how long until
// the window ends.
func (l *rateLimiter) allow(key string, limit int, period time.Duration) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.current(key, now)
	if w == nil {
		w = &window{end: now.Add(period)}
		l.windows[key] = w
	}
	w.n++
	if w.n > limit {
		return false, w.end.Sub(now)
	}
	return true, 0
}

// undo takes back one event allow counted for key (an attempt that turned out not to count).
func (l *rateLimiter) undo(key string) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.current(key, now); w != nil && w.n > 0 {
		w.n--
	}
}

// peek reports whether key is still within limit per period without counting an event.
func (l *rateLimiter) peek(key string, limit int, period time.Duration) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.current(key, now)
	if w == nil || w.n < limit {
		return true, 0
	}
	return false, w.end.Sub(now)
}
