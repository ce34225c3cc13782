package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1GiB", 1 << 30, false},
		{"512MiB", 512 << 20, false},
		{"1.5GiB", 3 << 29, false},
		{"1500MB", 1_500_000_000, false},
		{"1073741824", 1 << 30, false},
		{"64 kib", 64 << 10, false},
		{"off", 0, false},
		{"0", 0, false},
		{"lots", 0, true},
		{"-1GiB", 0, true},
		{"GiB", 0, true},
		{"1e30TB", 0, true},
	} {
		got, err := parseByteSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseByteSize(%q) = %d, %v", tc.in, got, err)
		}
	}
}

// TestApplyGCPercent: --gc-percent sets the collector's target unless GOGC is set; a percentage that would turn
// the collector off (0 or less) is a usage error, not a silent change.
func TestApplyGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	logger := slog.New(slog.DiscardHandler)
	gogc, had := os.LookupEnv("GOGC")
	os.Unsetenv("GOGC")
	t.Cleanup(func() {
		if had {
			os.Setenv("GOGC", gogc)
		}
	})

	if err := applyGCPercent(&serveConfig{gcPercent: defaultGCPercent}, logger); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("after --gc-percent %d the target is %d", defaultGCPercent, got)
	}
	for _, bad := range []int{0, -1} {
		if err := applyGCPercent(&serveConfig{gcPercent: bad}, logger); err == nil {
			t.Errorf("--gc-percent %d accepted", bad)
		}
	}
	t.Setenv("GOGC", "150")
	if err := applyGCPercent(&serveConfig{gcPercent: 900}, logger); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, --gc-percent changed the target to %d", got)
	}
}
