package api

import (
	"sync"
	"time"
)

// rateLimiter is a fixed-window counter per key (client address, login, profile). It bounds memory by dropping
// windows that have ended.
type rateLimiter struct {
	mu      sync.Mutex
	clock   Clock
	windows map[string]*window
	sweep   time.Time
}

type window struct {
	start time.Time
	n     int
}

func newRateLimiter(c Clock) *rateLimiter {
	return &rateLimiter{clock: c, windows: map[string]*window{}}
}

// allow counts one event for key and reports whether it is within limit per period, and if not, how long until
// the window ends.
func (l *rateLimiter) allow(key string, limit int, period time.Duration) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, w := range l.windows {
			if now.Sub(w.start) > 10*time.Minute {
				delete(l.windows, k)
			}
		}
		l.sweep = now
	}
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= period {
		w = &window{start: now}
		l.windows[key] = w
	}
	w.n++
	if w.n > limit {
		return false, w.start.Add(period).Sub(now)
	}
	return true, 0
}

// peek reports whether key is still within limit per period without counting an event.
func (l *rateLimiter) peek(key string, limit int, period time.Duration) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= period || w.n < limit {
		return true, 0
	}
	return false, w.start.Add(period).Sub(now)
}
