// Package timestamp holds the B-T signing benchmark (issue 12): XAdES and PAdES signing throughput at B-B and at
// B-T through a loopback TSA (the in-process test TSA served over HTTP), measured in the same run so that their
// ratio means something on a shared machine. bench/timestamp.sh runs it and prints the ratios (goal >= 0.80).
package timestamp

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/xades"
)

// document is an XML document of about size bytes, as bench/xades.sh signs.
func document(size int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<wniosek xmlns="urn:example:wniosek">` + "\n")
	for i := 0; b.Len() < size-20; i++ {
		fmt.Fprintf(&b, `  <poz nr="%d"><nazwa>Pozycja %d zażółć gęślą jaźń</nazwa><kwota>%d.50</kwota></poz>`+"\n", i, i, i*7)
	}
	b.WriteString("</wniosek>\n")
	return []byte(b.String())
}

// stamper returns the signing options' TimeStamp over one tsa.Client, as the service keeps one (keep-alive
// connections reused across seals). The TSA is $TRUSTSIGN_BENCH_TSA when set (bench/timestamp.sh starts
// `trustsign tsa` on loopback in a process of its own, as a TSA is another machine's work in production), or else
// the in-process test TSA served over HTTP on loopback.
func stamper(b *testing.B) func(context.Context, []byte) ([]byte, error) {
	url := os.Getenv("TRUSTSIGN_BENCH_TSA")
	if url == "" {
		h, err := testpki.New().TSAHandler(testpki.TSAGood)
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(h)
		b.Cleanup(srv.Close)
		url = srv.URL
	}
	c := &tsa.Client{URLs: []string{url}, Timeout: 10 * time.Second}
	return func(ctx context.Context, imprint []byte) ([]byte, error) {
		tok, err := c.Stamp(ctx, imprint)
		if err != nil {
			return nil, err
		}
		return tok.DER, nil
	}
}

var profile = &xades.Profile{FirstName: "ANNA", Surname: "TESTOWA", PESEL: "44051401359", ProfileID: "987654321", Login: "atestowa"}

// parallelism is how many signatures run at once per CPU: the service seals each confirmation in its own request
// goroutine, so while one seal waits for the TSA another uses the CPU.
var parallelism = 8

// run signs in parallel (parallelism x GOMAXPROCS goroutines, as the service's confirmations run) and reports
// signatures/s.
func run(b *testing.B, sign func(ctx context.Context) error) {
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := sign(context.Background()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sig/s")
}

// BenchmarkXAdES signs a 10 KB document in enveloped XAdES with the ECDSA P-256 seal (the service's seal1), at
// B-B and at B-T.
func BenchmarkXAdES(b *testing.B) {
	id := testpki.New().EC256
	doc := document(10 << 10)
	for _, level := range []string{"B-B", "B-T"} {
		b.Run(level, func(b *testing.B) {
			o := xades.SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: id.Chain[1:], Profile: profile, SigningTime: time.Now()}
			if level == "B-T" {
				o.TimeStamp = stamper(b)
			}
			run(b, func(ctx context.Context) error {
				_, err := xades.SignContext(ctx, doc, o)
				return err
			})
		})
	}
}

// BenchmarkPAdES signs a one-page PDF in PAdES (no visible stamp) with the ECDSA P-256 seal, at B-B and at B-T.
func BenchmarkPAdES(b *testing.B) {
	id := testpki.New().EC256
	in := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	for _, level := range []string{"B-B", "B-T"} {
		b.Run(level, func(b *testing.B) {
			invisible := false
			o := pades.SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: id.Chain[1:], Time: time.Now(), Visible: &invisible}
			if level == "B-T" {
				o.TimeStamp = stamper(b)
			}
			run(b, func(ctx context.Context) error {
				var out bytes.Buffer
				_, err := pades.Sign(ctx, bytes.NewReader(in), int64(len(in)), &out, o)
				return err
			})
		})
	}
}

// measure signs with workers goroutines for about d and returns the signatures made, the wall time and the
// process's CPU time (user + system) spent.
func measure(workers int, d time.Duration, sign func(ctx context.Context) error) (n int64, wall, cpu time.Duration, err error) {
	var count atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	cpu0 := processCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := sign(context.Background()); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				count.Add(1)
			}
		})
	}
	wg.Wait()
	if e, ok := firstErr.Load().(error); ok {
		err = e
	}
	return count.Load(), time.Since(start), processCPU() - cpu0, err
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ratio runs B-B and B-T signing in alternating slices of 300 ms (10 rounds of each, after a warm-up slice of each), so that both meet the same load
// on a shared machine, and reports each one's throughput and the ratios B-T/B-B: of signatures per second of wall
// time, and of signatures per CPU second of the process (the TSA's work included, since it runs here).
func ratio(b *testing.B, bb, bt func(ctx context.Context) error) {
	workers := parallelism * runtime.GOMAXPROCS(0)
	const rounds = 10
	var n [2]int64
	var wall, cpu [2]time.Duration
	for b.Loop() {
		for _, sign := range []func(context.Context) error{bb, bt} { // warm-up (connections, caches, heap), not counted
			if _, _, _, err := measure(workers, 300*time.Millisecond, sign); err != nil {
				b.Fatal(err)
			}
		}
		for range rounds {
			for i, sign := range []func(context.Context) error{bb, bt} {
				k, w, c, err := measure(workers, 300*time.Millisecond, sign)
				if err != nil {
					b.Fatal(err)
				}
				n[i] += k
				wall[i] += w
				cpu[i] += c
			}
		}
	}
	rate := func(i int) float64 { return float64(n[i]) / wall[i].Seconds() }
	perCPU := func(i int) float64 { return float64(n[i]) / cpu[i].Seconds() }
	b.ReportMetric(rate(0), "B-B-sig/s")
	b.ReportMetric(rate(1), "B-T-sig/s")
	b.ReportMetric(rate(1)/rate(0), "ratio-wall")
	b.ReportMetric(perCPU(1)/perCPU(0), "ratio-cpu")
}

// BenchmarkRatioXAdES is the goal's measure for XAdES (run with -benchtime 1x; bench/timestamp.sh does).
func BenchmarkRatioXAdES(b *testing.B) {
	for _, seal := range []struct {
		name string
		id   testpki.Identity
	}{{"P256", testpki.New().EC256}, {"RSA3072", testpki.New().RSA}} {
		b.Run(seal.name, func(b *testing.B) {
			doc := document(10 << 10)
			o := xades.SignOptions{Signer: seal.id.Key, Certificate: seal.id.Cert, Chain: seal.id.Chain[1:], Profile: profile, SigningTime: time.Now()}
			ot := o
			ot.TimeStamp = stamper(b)
			ratio(b, func(ctx context.Context) error { _, err := xades.SignContext(ctx, doc, o); return err },
				func(ctx context.Context) error { _, err := xades.SignContext(ctx, doc, ot); return err })
		})
	}
}

// BenchmarkRatioPAdES is the goal's measure for PAdES (a one-page PDF, no visible stamp).
func BenchmarkRatioPAdES(b *testing.B) {
	in := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	for _, seal := range []struct {
		name string
		id   testpki.Identity
	}{{"P256", testpki.New().EC256}, {"RSA3072", testpki.New().RSA}} {
		b.Run(seal.name, func(b *testing.B) {
			invisible := false
			o := pades.SignOptions{Signer: seal.id.Key, Certificate: seal.id.Cert, Chain: seal.id.Chain[1:], Time: time.Now(), Visible: &invisible}
			ot := o
			ot.TimeStamp = stamper(b)
			sign := func(o pades.SignOptions) func(context.Context) error {
				return func(ctx context.Context) error {
					var out bytes.Buffer
					_, err := pades.Sign(ctx, bytes.NewReader(in), int64(len(in)), &out, o)
					return err
				}
			}
			ratio(b, sign(o), sign(ot))
		})
	}
}
