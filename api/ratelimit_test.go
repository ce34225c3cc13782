package api

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/store/postgres"
	"github.com/trustsign/trustsign/store/postgres/pgtest"
)

// limiters are the two limiter implementations over one clock: in memory, and in a store (bbolt here; the
// multi-node tests run it on PostgreSQL).
func limiters(t testing.TB, clk Clock) map[string]limiter {
	db, err := bbolt.OpenDir(t.TempDir(), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return map[string]limiter{"memory": newMemoryLimiter(clk), "store": sharedLimiter{st: db, clock: clk}}
}

// TestRateLimiterSweepKeepsLiveWindows: both limiters count a fixed window per key and answer the time left; a
// window is dropped only when it has ended, so a 15-minute window still counts after 11 minutes (it used to be
// dropped after 10, restarting the count); in memory, ended windows are freed.
func TestRateLimiterSweepKeepsLiveWindows(t *testing.T) {
	const period = 15 * time.Minute
	steps := []struct {
		advance time.Duration
		key     string
		allowed bool
		wait    time.Duration
	}{
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", false, 15 * time.Minute},
		{0, "a", false, 15 * time.Minute},
		{11 * time.Minute, "b", true, 0}, // sweeps
		{0, "a", false, 4 * time.Minute},
		{4 * time.Minute, "a", true, 0}, // a's window ended: a new one
		{0, "a", true, 0},
	}
	for name, l := range limiters(t, nil) {
		t.Run(name, func(t *testing.T) {
			clk := &fixedClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
			l = withClock(l, clk)
			for i, s := range steps {
				clk.t = clk.t.Add(s.advance)
				ok, wait, err := l.allow(context.Background(), s.key, 3, period)
				if err != nil || ok != s.allowed || wait != s.wait {
					t.Fatalf("step %d (%s): allowed %v, wait %v, %v; want %v, %v", i, s.key, ok, wait, err, s.allowed, s.wait)
				}
			}
			clk.t = clk.t.Add(period + time.Minute)
			l.allow(context.Background(), "c", 3, period) //nolint:errcheck
			if m, ok := l.(*memoryLimiter); ok {
				if _, ok := m.windows["a"]; ok || len(m.windows) != 1 {
					t.Fatalf("ended windows kept: %v", m.windows)
				}
			}
		})
	}
}

// withClock returns l reading the time from clk.
func withClock(l limiter, clk Clock) limiter {
	switch l := l.(type) {
	case *memoryLimiter:
		l.clock = clk
		return l
	case sharedLimiter:
		l.clock = clk
		return l
	}
	panic(fmt.Sprintf("unknown limiter %T", l))
}

// BenchmarkLimiter measures one counted request of each limiter: in memory, in bbolt (one commit, with its fsync,
// per request) and in PostgreSQL (one serializable transaction; skipped without TRUSTSIGN_TEST_POSTGRES).
func BenchmarkLimiter(b *testing.B) {
	ls := limiters(b, systemClock{})
	ls["postgres"] = nil
	for _, name := range []string{"memory", "store", "postgres"} {
		b.Run(name, func(b *testing.B) {
			l := ls[name]
			if name == "postgres" {
				db, err := postgres.Open(context.Background(), pgtest.Database(b, "limits"), postgres.Options{NoChainKey: true})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { db.Close() })
				l = sharedLimiter{st: db, clock: systemClock{}}
			}
			i := 0
			for b.Loop() {
				if _, _, err := l.allow(context.Background(), fmt.Sprint("addr", i%1000), 1<<30, time.Minute); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

var _ LimitStore = (*store.DB)(nil)
