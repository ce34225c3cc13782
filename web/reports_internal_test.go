package web

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/store/postgres"
	"github.com/trustsign/trustsign/store/postgres/pgtest"
	"github.com/trustsign/trustsign/verify"
)

type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { return c.t }

// reportKeepers are the two keepers over one clock: in memory, and in a store (bbolt here; the multi-node test runs
// it on PostgreSQL).
func reportKeepers(t testing.TB, clk Clock) map[string]reportKeeper {
	db, err := bbolt.OpenDir(t.TempDir(), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return map[string]reportKeeper{"memory": newReportCache(clk, reportsKept, reportTTL), "store": storeReports{st: db, clock: clk}}
}

// TestReportKeepers: both keepers give back the report as verified (it renders the same), under an unguessable id
// only, until reportTTL; a report larger than reportMaxBytes gets no link.
func TestReportKeepers(t *testing.T) {
	clk := &stepClock{t: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)}
	rep := goldenReport()[0]
	var want bytes.Buffer
	if err := renderReports(&want, []verify.FileReport{rep}, "en", clk.t); err != nil {
		t.Fatal(err)
	}
	for name, k := range reportKeepers(t, clk) {
		t.Run(name, func(t *testing.T) {
			start := clk.t
			defer func() { clk.t = start }()
			id, err := k.put(context.Background(), rep)
			if err != nil || len(id) < 24 {
				t.Fatalf("put: %q %v", id, err)
			}
			if _, ok, err := k.get(context.Background(), id[:len(id)-1]); ok || err != nil {
				t.Errorf("a report found under another id: %v %v", ok, err)
			}
			clk.t = start.Add(reportTTL - time.Second)
			got, ok, err := k.get(context.Background(), id)
			if !ok || err != nil {
				t.Fatalf("get before expiry: %v %v", ok, err)
			}
			var b bytes.Buffer
			if err := renderReports(&b, []verify.FileReport{got}, "en", start); err != nil || b.String() != want.String() {
				t.Errorf("the kept report renders otherwise (%v)", err)
			}
			clk.t = start.Add(reportTTL)
			if _, ok, err := k.get(context.Background(), id); ok || err != nil {
				t.Errorf("an expired report is served: %v %v", ok, err)
			}
			big := rep
			big.Note = strings.Repeat("x", reportMaxBytes)
			if id, err := k.put(context.Background(), big); id != "" || err != nil {
				t.Errorf("an oversized report was kept: %q %v", id, err)
			}
		})
	}
}

// BenchmarkReportKeep measures keeping one full report (goldenReport) for its link: in memory, in bbolt (a
// commit with its fsync) and in PostgreSQL (skipped without TRUSTSIGN_TEST_POSTGRES).
func BenchmarkReportKeep(b *testing.B) {
	ks := reportKeepers(b, systemClock{})
	rep := goldenReport()[0]
	for _, name := range []string{"memory", "store", "postgres"} {
		b.Run(name, func(b *testing.B) {
			k := ks[name]
			if name == "postgres" {
				db, err := postgres.Open(context.Background(), pgtest.Database(b, "reports"), postgres.Options{NoChainKey: true})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { db.Close() })
				k = storeReports{st: db, clock: systemClock{}}
			}
			for b.Loop() {
				if _, err := k.put(context.Background(), rep); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
