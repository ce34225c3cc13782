package main

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/trustsign/trustsign/internal/procs"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/verify"
)

// parseByteSize reads a size such as "1GiB", "512MiB", "1500MB" or "1073741824"; "0" and "off" mean no limit (0).
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" || strings.EqualFold(t, "off") {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
		{"TB", 1e12}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || n*float64(mult) >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size (like 1GiB or 512MiB)", s)
	}
	return int64(n * float64(mult)), nil
}

// applyMemoryLimit sets the Go runtime's soft memory limit from --memory-limit, unless GOMEMLIMIT is set (the
// runtime has read it already).
func applyMemoryLimit(c *serveConfig, logger *slog.Logger) error {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		logger.Info("memory limit from GOMEMLIMIT", "bytes", debug.SetMemoryLimit(-1))
		return nil
	}
	limit, err := parseByteSize(c.memoryLimit)
	if err != nil {
		return usageErr("--memory-limit: %v", err)
	}
	if limit == 0 {
		limit = math.MaxInt64
	}
	debug.SetMemoryLimit(limit)
	logger.Info("memory limit", "bytes", limit)
	return nil
}

// defaultGCPercent is --gc-percent's default. The service's live heap is small (a few MB to tens of MB) while a
// signing flow allocates about half a megabyte (store pages, the XML tree, JSON), so Go's default of 100 runs a
// collection every few megabytes: about 15% of the CPU at a few hundred flows per second. 400 lets the heap grow to
// five times the live data between collections (still well under --memory-limit, which makes the collector work
// harder as the heap nears it) and cuts the collector's share to about a fifth (bench/api.sh, issue 15).
const defaultGCPercent = 400

// applyGCPercent sets the garbage collector's target from --gc-percent, unless GOGC is set (the runtime has read it
// already).
func applyGCPercent(c *serveConfig, logger *slog.Logger) error {
	if v, ok := os.LookupEnv("GOGC"); ok {
		logger.Info("garbage collector target from GOGC", "gogc", v)
		return nil
	}
	if c.gcPercent <= 0 {
		return usageErr("--gc-percent: %d is not a positive percentage", c.gcPercent)
	}
	debug.SetGCPercent(c.gcPercent)
	logger.Info("garbage collector target", "percent", c.gcPercent)
	return nil
}

// applyGOMAXPROCS sets how many goroutines run at once from --gomaxprocs, by default half as many again as the
// cores (internal/procs says why), unless GOMAXPROCS is set.
func applyGOMAXPROCS(c *serveConfig, logger *slog.Logger) error {
	if c.gomaxprocs < 0 {
		return usageErr("--gomaxprocs: %d is negative", c.gomaxprocs)
	}
	n, from := procs.Set(c.gomaxprocs)
	logger.Info("goroutines running at once", "gomaxprocs", n, "from", from, "cpus", runtime.NumCPU())
	return nil
}

// newVerifySlots is the limiter the API and the pages share: --verify-slots, or by default the number of CPUs but
// no more than the memory limit holds verifications of the largest document (whose XML tree may take
// xmldoc.DefaultLimits.MaxTreeFactor times its size, plus the request's copies of it).
func newVerifySlots(c *serveConfig, logger *slog.Logger) *verify.Slots {
	memLimit := debug.SetMemoryLimit(-1)
	n := c.verifySlots
	if n <= 0 {
		perVerification := (int64(xmldoc.DefaultLimits.MaxTreeFactor) + 4) * max(c.maxDocument, 1<<20)
		n = int(max(1, min(int64(runtime.NumCPU()), memLimit/perVerification)))
	}
	logger.Info("verification slots", "slots", n)
	return verify.NewSlots(verify.SlotsOptions{Slots: n})
}
