package api

import (
	"testing"
	"time"
)

// TestRateLimiterSweepKeepsLiveWindows: the sweep drops a window only when it has ended, so a 15-minute window
// still counts after 11 minutes (it used to be dropped after 10, restarting the count); ended windows are freed.
func TestRateLimiterSweepKeepsLiveWindows(t *testing.T) {
	clk := &fixedClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	l := newRateLimiter(clk)
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
		{11 * time.Minute, "b", true, 0}, // sweeps
		{0, "a", false, 4 * time.Minute},
		{4 * time.Minute, "a", true, 0}, // a's window ended: a new one
		{0, "a", true, 0},
	}
	for i, s := range steps {
		clk.t = clk.t.Add(s.advance)
		ok, wait := l.allow(s.key, 3, period)
		if ok != s.allowed || wait != s.wait {
			t.Fatalf("step %d (%s): allowed %v, wait %v; want %v, %v", i, s.key, ok, wait, s.allowed, s.wait)
		}
	}
	l.undo("a")
	if ok, _ := l.peek("a", 2, period); !ok {
		t.Fatal("undo did not take an event back")
	}
	clk.t = clk.t.Add(period + time.Minute)
	l.allow("c", 3, period)
	if _, ok := l.windows["a"]; ok || len(l.windows) != 1 {
		t.Fatalf("ended windows kept: %v", l.windows)
	}
}
