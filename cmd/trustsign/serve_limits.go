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
