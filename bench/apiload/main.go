// Command apiload measures the REST API under load on loopback: full signing flows per second and their latency.
//
// A flow is what an e-prescription costs the service: the integrator submits a document, the holder asks for the
// code, confirms with it (the document is sealed now, XAdES with a P-256 key), and the integrator fetches the
// signed document. Holders are created and logged in before the clock starts, so password hashing is not part of
// a flow. The service runs in this process (package client/clienttest: the real store, domain services and
// handlers behind a loopback HTTP server), so codes are read from its in-memory outbox; every request still goes
// through HTTP and JSON.
//
// Code rules are production's (one code per second per holder, ten per 15 minutes): holders are used in turn, and
// a holder is not used again within a second of its last code. The store is bbolt with fsync on, in a temporary
// directory (or -dir); with -store postgres://… it is that (empty) PostgreSQL database, and -nodes services run on it
// in this process, each with its own connection pool and HTTP server, taking the requests in turn (bench/nodes.sh).
//
// Two modes: a closed loop (-workers flows at a time, as fast as they go: capacity) and an open loop (-rate flows
// per second arrive whatever the latency, at most -workers in flight; a flow's latency counts from its arrival, so
// queueing is not hidden). bench/api.sh runs both.
//
// The process runs on -procs cores, the driver included: on a machine with more it starts itself again bound to that
// many CPUs. The Go runtime is set up as `trustsign serve` sets it for those cores: GOMAXPROCS half as many again
// (internal/procs; -gomaxprocs to set it), the garbage collector's target of --gc-percent (400) and a 1 GiB soft
// memory limit, unless GOMAXPROCS, GOGC or GOMEMLIMIT say otherwise.
// Besides flows/s and latencies, a result gives what a flow costs the process (service and driver): CPU time, the
// collector's part of it, and heap allocations; -cpuprofile and -memprofile say where.
//
// Usage: go run ./bench/apiload [-duration 10s] [-rate 0] [-workers 16] [-holders 0] [-procs 2] [-gc-percent 400] [-cpuprofile FILE] [-memprofile FILE]
// [-store postgres://… [-nodes 2] [-pool N]]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/internal/procs"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signer"
)

// prescription is an e-prescription of the size the acceptance sample has (about 750 bytes).
const prescription = `<?xml version="1.0" encoding="UTF-8"?>
<rx:Recepta xmlns:rx="urn:example:erecepta:1" xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/03/06/" wersja="1.0">
  <rx:Wystawca>
    <os:Imie>JAN</os:Imie>
    <os:Nazwisko>LEKARSKI</os:Nazwisko>
    <rx:NPWZ>1234567</rx:NPWZ>
  </rx:Wystawca>
  <rx:Pacjent plec="K">
    <os:Imie>Zofia</os:Imie>
    <os:Nazwisko>Źdźbło-Łęcka</os:Nazwisko>
    <os:Identyfikator>%08d</os:Identyfikator>
  </rx:Pacjent>
  <rx:Lek ilosc="2" dawkowanie="1 tabl. 3 x dziennie &amp; po jedzeniu">Amoxicillinum 500 mg</rx:Lek>
  <rx:Uwagi>Recepta wystawiona w ramach testu obciążeniowego; wszystkie dane są zmyślone.</rx:Uwagi>
  <rx:DataWystawienia>2026-03-02</rx:DataWystawienia>
</rx:Recepta>
`

// flowTimeout bounds a flow (its four requests), so that a service that stops answering ends the run with errors.
const flowTimeout = 30 * time.Second

type config struct {
	duration, warmup time.Duration
	workers, holders int
	rate             float64
	procs            int
	gomaxprocs       int
	gcPercent        int
	targetFlows      float64
	targetP99        time.Duration
	dir              string
	cpuProfile       string
	memProfile       string
	mutexProfile     string
	blockProfile     string
	trace            string
	jsonOut          string
	strict           bool
	timeline         time.Duration
	// store is a PostgreSQL database URL (empty database) to run -nodes nodes on instead of one node on bbolt
	store    string
	nodes    int
	maxConns int
	// the seal: a key file or PKCS#11 URI with its certificate (default: the test PKI's P-256 identity)
	sealKey, sealCert string
	// httpClient is the driver's transport: "lean" (transport.go) or "std" (net/http's)
	httpClient string
}

func main() {
	var c config
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "measured duration")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured warm-up before the measurement")
	flag.IntVar(&c.workers, "workers", 16, "concurrent flows (closed loop), or the most flows in flight (with -rate)")
	flag.Float64Var(&c.rate, "rate", 0, "open loop: start this many flows per second whatever the latency (0: closed loop, as fast as -workers go)")
	flag.IntVar(&c.holders, "holders", 0, "profile holders (0: enough for the code rules at 4x the target rate)")
	flag.IntVar(&c.procs, "procs", 2, "cores for the service and the driver together: the process runs on at most this many CPUs (started again bound to them on a machine with more)")
	flag.IntVar(&c.gomaxprocs, "gomaxprocs", 0, "goroutines running at once (0: as `trustsign serve` sets it for -procs cores, half as many again; GOMAXPROCS wins when set)")
	flag.IntVar(&c.gcPercent, "gc-percent", 400, "the garbage collector's target, as `trustsign serve --gc-percent` sets it (its default; GOGC wins when set)")
	flag.Float64Var(&c.targetFlows, "target-flows", 300, "target flows per second")
	flag.DurationVar(&c.targetP99, "target-p99", 50*time.Millisecond, "target p99 flow latency")
	flag.StringVar(&c.dir, "dir", "", "data directory (default: a temporary one)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the measurement to `FILE`")
	flag.StringVar(&c.memProfile, "memprofile", "", "write the allocation profile to `FILE` at the end of the measurement and to FILE.base at its start (the window's allocations: go tool pprof -sample_index=alloc_space -base FILE.base FILE)")
	flag.StringVar(&c.mutexProfile, "mutexprofile", "", "write a mutex contention profile to `FILE`")
	flag.StringVar(&c.blockProfile, "blockprofile", "", "write a blocking profile to `FILE`")
	flag.StringVar(&c.trace, "trace", "", "write an execution trace of the measurement to `FILE` (go tool trace -pprof=syscall|sync FILE)")
	flag.StringVar(&c.jsonOut, "json", "", "also write the result as one JSON object to `FILE` (- for standard output instead of the text)")
	flag.BoolVar(&c.strict, "strict", false, "exit 1 when a target is missed")
	flag.DurationVar(&c.timeline, "timeline", 0, "print to standard error, every `INTERVAL`, the flows ended in it, their p50 and p99, the CPU used and (bbolt) the group commits")
	flag.StringVar(&c.store, "store", "", "run the service on this empty PostgreSQL database `URL` instead of bbolt (bench/nodes.sh)")
	flag.IntVar(&c.nodes, "nodes", 1, "with -store: nodes on the database, each with its own pool and HTTP server; requests go to them in turn")
	flag.IntVar(&c.maxConns, "pool", 0, "with -store: each node's connection pool size (0: pgx's default, max(4, CPUs))")
	flag.StringVar(&c.sealKey, "seal-key", "", "seal key `FILE` (PEM) or PKCS#11 URI, with -seal-cert (default: the test PKI's P-256 key in memory)")
	flag.StringVar(&c.sealCert, "seal-cert", "", "seal certificate and chain `FILE` (PEM) for -seal-key")
	flag.StringVar(&c.httpClient, "http-client", "lean", "the driver's HTTP transport: lean (keep-alive connections, each request on its caller's goroutine) or std (net/http's Transport)")
	flag.Parse()
	if err := procs.Confine(c.procs); err != nil {
		fmt.Fprintln(os.Stderr, "apiload:", err)
		os.Exit(2)
	}
	res, err := run(context.Background(), c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiload:", err)
		os.Exit(2)
	}
	switch c.jsonOut {
	case "-":
		json.NewEncoder(os.Stdout).Encode(res) //nolint:errcheck
	case "":
		res.print(os.Stdout)
	default:
		res.print(os.Stdout)
		data, _ := json.Marshal(res)
		if err := os.WriteFile(c.jsonOut, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "apiload:", err)
			os.Exit(2)
		}
	}
	if res.Errors > 0 {
		os.Exit(1)
	}
	if c.strict && !res.Met {
		os.Exit(1)
	}
}

// holder is a logged-in profile holder.
type holder struct {
	email     string
	c         *client.Client
	notBefore time.Time // one code per second per holder
}

// steps of a flow, for the per-request latencies.
var stepNames = []string{"submit", "code", "confirm", "fetch"}

type sample struct {
	flow  time.Duration
	steps [4]time.Duration
}

// result is what the driver reports.
type result struct {
	Mode         string             `json:"mode"`
	Store        string             `json:"store"`
	Nodes        int                `json:"nodes"`
	Rate         float64            `json:"offeredFlowsPerSecond,omitempty"`
	Procs        int                `json:"procs"`
	GOMAXPROCS   int                `json:"gomaxprocs"`
	Workers      int                `json:"workers"`
	Holders      int                `json:"holders"`
	Duration     float64            `json:"durationSeconds"`
	Flows        int                `json:"flows"`
	Errors       int64              `json:"errors"`
	FirstError   string             `json:"firstError,omitempty"`
	FlowsPerSec  float64            `json:"flowsPerSecond"`
	FlowP50      float64            `json:"flowP50Ms"`
	FlowP90      float64            `json:"flowP90Ms"`
	FlowP99      float64            `json:"flowP99Ms"`
	FlowMax      float64            `json:"flowMaxMs"`
	RequestP99   float64            `json:"requestP99Ms"`
	StepP50      map[string]float64 `json:"stepP50Ms"`
	StepP99      map[string]float64 `json:"stepP99Ms"`
	TargetFlows  float64            `json:"targetFlowsPerSecond"`
	TargetP99    float64            `json:"targetP99Ms"`
	RateRatio    float64            `json:"rateRatio"`
	LatencyRatio float64            `json:"p99Ratio"`
	HolderWaits  int64              `json:"holderWaits"`
	Met          bool               `json:"met"`
	// what a flow costs the process (service and driver together, both on the -procs cores), averaged over the
	// measured window: CPU time (user and system, the store's syscalls included), the part of it the garbage
	// collector took, and heap allocations
	CPUPerFlow        float64 `json:"cpuPerFlowMs"`
	GCCPUPerFlow      float64 `json:"gcCpuPerFlowMs"`
	AllocsPerFlow     float64 `json:"allocsPerFlow"`
	AllocBytesPerFlow float64 `json:"allocBytesPerFlow"`
}

func run(ctx context.Context, c config) (*result, error) {
	gomaxprocs := c.gomaxprocs
	if gomaxprocs == 0 {
		gomaxprocs = procs.For(c.procs)
	}
	gomaxprocs, _ = procs.Set(gomaxprocs)
	// the runtime as `trustsign serve` sets it up: its garbage collector target and soft memory limit (1 GiB),
	// unless the environment sets them
	if _, ok := os.LookupEnv("GOGC"); !ok && c.gcPercent > 0 {
		debug.SetGCPercent(c.gcPercent)
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(1 << 30)
	}
	if c.holders == 0 {
		// each holder gets at most one code a second and ten per 15 minutes: plan for 4x the target rate
		c.holders = max(c.workers*4, int(4*c.targetFlows*1.5), int(4*c.targetFlows*(c.duration+c.warmup).Seconds()/8))
	}
	var seal *signer.Seal
	if c.sealKey != "" {
		if c.store != "" {
			return nil, errors.New("-seal-key runs with bbolt only (the nodes of -store seal with the test PKI)")
		}
		var err error
		if seal, err = signer.LoadSeal(c.sealKey, c.sealCert); err != nil {
			return nil, err
		}
	}
	var tr interface {
		http.RoundTripper
		CloseIdleConnections()
	}
	switch c.httpClient {
	case "lean":
		tr = newLeanTransport(c.workers * 2)
	case "std":
		tr = &http.Transport{DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns: c.workers * 2, MaxIdleConnsPerHost: c.workers * 2, IdleConnTimeout: time.Minute}
	default:
		return nil, fmt.Errorf("-http-client %q: lean or std", c.httpClient)
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	if c.httpClient == "std" {
		hc.Timeout = flowTimeout // net/http's own: a goroutine and a timer per request
	}
	var svc service
	storeName := "bbolt"
	if c.store == "" {
		s, err := clienttest.Start(clienttest.Options{Dir: c.dir, Seal: seal})
		if err != nil {
			return nil, err
		}
		svc = s
	} else {
		nodes, err := startPGNodes(ctx, c.store, max(1, c.nodes), int32(c.maxConns))
		if err != nil {
			return nil, err
		}
		hc.Transport = nodes.RoundRobin(tr)
		svc, storeName = nodes, "postgres"
	}
	defer svc.Close()
	base := svc.Client(client.HTTPClient(hc))
	key, err := svc.NewIntegrator(ctx, "apiload", profile.ScopeSign)
	if err != nil {
		return nil, err
	}
	rx := base.With(client.APIKey(key))

	fmt.Fprintf(os.Stderr, "apiload: creating and logging in %d holders...\n", c.holders)
	pool := make(chan *holder, c.holders)
	if err := makeHolders(ctx, svc, base, c.holders, pool); err != nil {
		return nil, err
	}

	var (
		mu       sync.Mutex
		samples  []sample
		errs     atomic.Int64
		firstErr atomic.Value
		waits    atomic.Int64
		seq      atomic.Int64
	)
	flow := func(h *holder) (sample, error) {
		var s sample
		ctx, cancel := context.WithTimeout(ctx, flowTimeout)
		defer cancel()
		t0 := time.Now()
		doc := fmt.Appendf(nil, prescription, seq.Add(1))
		req, err := rx.Submit(ctx, client.Submission{Document: doc, FileName: "recepta.xml", Format: client.XAdES,
			SuccessURL: "https://rx.example.test/ok"})
		if err != nil {
			return s, fmt.Errorf("submit: %w", err)
		}
		t1 := time.Now()
		if _, err := h.c.RequestCode(ctx, req.ID); err != nil {
			return s, fmt.Errorf("code: %w", err)
		}
		code, ok := svc.LastCode(h.email)
		if !ok {
			return s, errors.New("no code in the outbox")
		}
		t2 := time.Now()
		if _, err := h.c.Confirm(ctx, req.ID, code); err != nil {
			return s, fmt.Errorf("confirm: %w", err)
		}
		t3 := time.Now()
		signed, _, err := rx.SignedDocument(ctx, req.ID)
		if err != nil {
			return s, fmt.Errorf("fetch: %w", err)
		}
		if len(signed) <= len(doc) {
			return s, errors.New("fetch: the signed document is not larger than the original")
		}
		t4 := time.Now()
		s.steps = [4]time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3)}
		s.flow = t4.Sub(t0)
		return s, nil
	}

	// one flow for a holder taken from the pool; its latency counts from scheduled (the arrival time in rate
	// mode, so that queueing is not hidden; the start of the flow otherwise)
	var (
		window struct {
			sync.Mutex
			start, end time.Time
		}
		wg sync.WaitGroup
	)
	inWindow := func(t time.Time) bool {
		window.Lock()
		defer window.Unlock()
		return !window.start.IsZero() && !t.Before(window.start) && (window.end.IsZero() || t.Before(window.end))
	}
	var tl *timeline
	if c.timeline > 0 {
		tl = startTimeline(c.timeline, svc)
		defer tl.stop()
	}
	one := func(scheduled time.Time, h *holder) {
		if d := time.Until(h.notBefore); d > 0 {
			waits.Add(1)
			time.Sleep(d)
		}
		s, err := flow(h)
		h.notBefore = time.Now().Add(1100 * time.Millisecond)
		pool <- h
		done := time.Now()
		s.flow = done.Sub(scheduled)
		// rate mode counts the flows that arrived in the window; closed loop those that ended in it
		counted := inWindow(scheduled)
		if c.rate == 0 {
			counted = inWindow(done) && inWindow(scheduled)
		}
		switch {
		case !counted:
		case err != nil:
			if errs.Add(1) == 1 {
				firstErr.Store(err.Error())
			}
		default:
			mu.Lock()
			samples = append(samples, s)
			mu.Unlock()
		}
		if tl != nil {
			tl.add(s.flow)
		}
	}
	stop := make(chan struct{})
	if c.rate > 0 {
		// open loop: arrivals at a fixed rate whatever the latency, at most -workers flows in flight
		wg.Add(1)
		go func() {
			defer wg.Done()
			interval := time.Duration(float64(time.Second) / c.rate)
			inflight := make(chan struct{}, c.workers)
			next := time.Now()
			for {
				time.Sleep(time.Until(next))
				select {
				case <-stop:
					return
				case inflight <- struct{}{}:
				}
				scheduled := next
				next = next.Add(interval)
				h := <-pool
				wg.Add(1)
				go func() {
					defer wg.Done()
					one(scheduled, h)
					<-inflight
				}()
			}
		}()
	} else {
		for w := 0; w < c.workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					case h := <-pool:
						one(time.Now(), h)
					}
				}
			}()
		}
	}
	time.Sleep(c.warmup)
	stopProfiles, err := startProfiles(c)
	if err != nil {
		close(stop)
		wg.Wait()
		return nil, err
	}
	window.Lock()
	window.start = time.Now()
	cost0 := readCost()
	window.Unlock()
	time.Sleep(c.duration)
	window.Lock()
	window.end = time.Now()
	cost := readCost().minus(cost0)
	elapsed := window.end.Sub(window.start)
	window.Unlock()
	close(stop)
	wg.Wait()
	if err := stopProfiles(); err != nil {
		return nil, err
	}

	r := &result{Mode: "closed-loop", Store: storeName, Nodes: max(1, c.nodes), Rate: c.rate, Procs: c.procs, GOMAXPROCS: gomaxprocs, Workers: c.workers, Holders: c.holders, Duration: elapsed.Seconds(), Flows: len(samples),
		Errors: errs.Load(), HolderWaits: waits.Load(), TargetFlows: c.targetFlows, TargetP99: ms(c.targetP99),
		StepP50: map[string]float64{}, StepP99: map[string]float64{}}
	if c.rate > 0 {
		r.Mode = "open-loop"
	}
	if v, ok := firstErr.Load().(string); ok {
		r.FirstError = v
	}
	if len(samples) == 0 {
		return r, nil
	}
	r.FlowsPerSec = float64(len(samples)) / elapsed.Seconds()
	n := float64(len(samples))
	r.CPUPerFlow, r.GCCPUPerFlow = cost.cpu*1000/n, cost.gcCPU*1000/n
	r.AllocsPerFlow, r.AllocBytesPerFlow = cost.allocs/n, cost.bytes/n
	flows := make([]time.Duration, len(samples))
	var all []time.Duration
	for i, s := range samples {
		flows[i] = s.flow
		all = append(all, s.steps[:]...)
	}
	r.FlowP50, r.FlowP90, r.FlowP99, r.FlowMax = ms(pct(flows, 50)), ms(pct(flows, 90)), ms(pct(flows, 99)), ms(pct(flows, 100))
	r.RequestP99 = ms(pct(all, 99))
	for i, name := range stepNames {
		step := make([]time.Duration, len(samples))
		for j, s := range samples {
			step[j] = s.steps[i]
		}
		r.StepP50[name], r.StepP99[name] = ms(pct(step, 50)), ms(pct(step, 99))
	}
	r.RateRatio = r.FlowsPerSec / c.targetFlows
	if c.rate > 0 && c.rate >= c.targetFlows && r.FlowsPerSec >= 0.98*c.rate {
		r.RateRatio = max(r.RateRatio, 1) // the offered target rate was carried (arrivals at the window's edges aside)
	}
	r.LatencyRatio = r.FlowP99 / ms(c.targetP99)
	r.Met = r.RateRatio >= 1 && r.LatencyRatio < 1 && r.Errors == 0
	return r, nil
}

// makeHolders creates active profiles through the domain service and logs each in over HTTP.
func makeHolders(ctx context.Context, svc service, base *client.Client, n int, pool chan<- *holder) error {
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		first error
		once  sync.Once
	)
	for w := 0; w < runtime.GOMAXPROCS(0)*2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				login := fmt.Sprintf("lekarz%05d", i)
				if _, err := svc.NewHolder(ctx, clienttest.Holder{Login: login, PESEL: clienttest.PESEL(i)}); err != nil {
					once.Do(func() { first = err })
					return
				}
				s, err := base.Login(ctx, login, clienttest.Password)
				if err != nil {
					once.Do(func() { first = fmt.Errorf("login %s: %w", login, err) })
					return
				}
				pool <- &holder{email: login + "@example.test", c: base.With(client.SessionToken(s.Token))}
			}
		}()
	}
	wg.Wait()
	return first
}

func startProfiles(c config) (func() error, error) {
	var stops []func() error
	if c.trace != "" {
		f, err := os.Create(c.trace)
		if err != nil {
			return nil, err
		}
		if err := trace.Start(f); err != nil {
			return nil, err
		}
		stops = append(stops, func() error { trace.Stop(); return f.Close() })
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		stops = append(stops, func() error { pprof.StopCPUProfile(); return f.Close() })
	}
	if c.memProfile != "" {
		// the allocations of the window are the profile at its end minus the one at its start (FILE.base)
		if err := writeProfile("allocs", c.memProfile+".base"); err != nil {
			return nil, err
		}
		stops = append(stops, func() error { return writeProfile("allocs", c.memProfile) })
	}
	if c.mutexProfile != "" {
		runtime.SetMutexProfileFraction(5)
		stops = append(stops, func() error { return writeProfile("mutex", c.mutexProfile) })
	}
	if c.blockProfile != "" {
		runtime.SetBlockProfileRate(int(time.Microsecond))
		stops = append(stops, func() error { return writeProfile("block", c.blockProfile) })
	}
	return func() error {
		for _, s := range stops {
			if err := s(); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup(name).WriteTo(f, 0)
}

// cost is what the process has spent so far: CPU seconds (user and system), the garbage collector's share of
// them (the runtime's estimate), and heap allocations.
type cost struct{ cpu, sys, faults, gcCPU, allocs, bytes float64 }

func readCost() cost {
	var c cost
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		c.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		c.sys = time.Duration(ru.Stime.Nano()).Seconds()
		c.faults = float64(ru.Minflt + ru.Majflt)
	}
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	val := func(v metrics.Value) float64 {
		switch v.Kind() {
		case metrics.KindFloat64:
			return v.Float64()
		case metrics.KindUint64:
			return float64(v.Uint64())
		}
		return 0
	}
	c.gcCPU, c.allocs, c.bytes = val(s[0].Value), val(s[1].Value), val(s[2].Value)
	return c
}

func (c cost) minus(o cost) cost {
	return cost{c.cpu - o.cpu, c.sys - o.sys, c.faults - o.faults, c.gcCPU - o.gcCPU, c.allocs - o.allocs, c.bytes - o.bytes}
}

func pct(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (r *result) print(w *os.File) {
	load := fmt.Sprintf("closed loop, %d workers", r.Workers)
	if r.Mode == "open-loop" {
		load = fmt.Sprintf("open loop, %.0f flows/s offered, at most %d in flight", r.Rate, r.Workers)
	}
	fmt.Fprintf(w, "REST API load: %s, %d holders, %d cores (GOMAXPROCS=%d), %.1f s measured, %s, %d node(s)\n", load, r.Holders, r.Procs, r.GOMAXPROCS, r.Duration, r.Store, r.Nodes)
	fmt.Fprintf(w, "flow = submit -> code -> confirm (XAdES, P-256 seal) -> fetch\n")
	fmt.Fprintf(w, "flows:         %d (%d errors)\n", r.Flows, r.Errors)
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error:   %s\n", r.FirstError)
	}
	fmt.Fprintf(w, "flows/s:       %.0f   (target %.0f: ratio %.2f)\n", r.FlowsPerSec, r.TargetFlows, r.RateRatio)
	fmt.Fprintf(w, "flow latency:  p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms   (target p99 < %.0f ms: ratio %.2f)\n",
		r.FlowP50, r.FlowP90, r.FlowP99, r.FlowMax, r.TargetP99, r.LatencyRatio)
	fmt.Fprintf(w, "request p99:   %.1f ms over all four requests\n", r.RequestP99)
	fmt.Fprintf(w, "per flow:      %.2f ms CPU (%.2f ms of it GC), %.0f allocations, %.0f KB allocated (service and driver)\n",
		r.CPUPerFlow, r.GCCPUPerFlow, r.AllocsPerFlow, r.AllocBytesPerFlow/1024)
	for _, n := range stepNames {
		fmt.Fprintf(w, "  %-8s p50 %6.2f ms  p99 %6.2f ms\n", n, r.StepP50[n], r.StepP99[n])
	}
	if r.HolderWaits > 0 {
		fmt.Fprintf(w, "holder waits:  %d (a holder's next code was due in under a second: add -holders)\n", r.HolderWaits)
	}
	verdict := "MET"
	if !r.Met {
		verdict = "MISSED"
	}
	fmt.Fprintf(w, "target:        %s\n", verdict)
}
