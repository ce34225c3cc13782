package main

import (
	"fmt"
	"math"
	"os"
	"runtime/metrics"
	"slices"
	"sync"
	"time"

	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/store/bbolt"
)

// timeline prints, every interval, what happened in it: the flows that ended, their latency (from arrival), the
// process's CPU and, on bbolt, the group commits (how many, their mean size and time). It shows what a summary
// hides: a stall, a queue that builds up, a commit that grows.
type timeline struct {
	mu    sync.Mutex
	flows []time.Duration
	done  chan struct{}
	wg    sync.WaitGroup
}

func startTimeline(every time.Duration, svc service) *timeline {
	t := &timeline{done: make(chan struct{})}
	var db *bbolt.DB
	if s, ok := svc.(*clienttest.Service); ok {
		db = s.DB
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		last := readCost()
		lastSched := readSched()
		var lastStats bbolt.GroupCommitStats
		if db != nil {
			lastStats = db.GroupCommitStats()
		}
		start := time.Now()
		for {
			select {
			case <-t.done:
				return
			case now := <-tick.C:
				t.mu.Lock()
				f := t.flows
				t.flows = nil
				t.mu.Unlock()
				c := readCost()
				line := fmt.Sprintf("%6.1fs %5d flows", now.Sub(start).Seconds(), len(f))
				if len(f) > 0 {
					line += fmt.Sprintf(" p50 %6.1f p99 %6.1f ms", ms(pct(f, 50)), ms(pct(f, 99)))
				}
				sched := readSched()
				d := sched.minus(lastSched)
				line += fmt.Sprintf(" cpu %3.0f%% (sys %3.0f%%, %.0f faults) gc %4.1f%% (%d, live %d MB) wait-to-run p99 %.1f ms", 100*(c.cpu-last.cpu)/every.Seconds(),
					100*(c.sys-last.sys)/every.Seconds(), c.faults-last.faults, 100*(c.gcCPU-last.gcCPU)/every.Seconds(), d.gcs, d.live>>20, ms(d.quantile(0.99)))
				last, lastSched = c, sched
				if db != nil {
					s := db.GroupCommitStats()
					commits := s.Commits + s.Rollbacks - lastStats.Commits - lastStats.Rollbacks
					if commits > 0 {
						line += fmt.Sprintf(" | %d groups, %.1f calls each, commit %.2f ms, run %.0f µs/call",
							commits, float64(s.Calls-lastStats.Calls)/float64(commits),
							ms((s.CommitTime-lastStats.CommitTime)/time.Duration(commits)),
							float64((s.RunTime-lastStats.RunTime).Microseconds())/float64(max(1, s.Calls-lastStats.Calls)))
					}
					if ck := s.Checkpoints - lastStats.Checkpoints; ck > 0 {
						n := time.Duration(ck)
						line += fmt.Sprintf(", log %.0f KB/commit | %d checkpoints %.2f ms (apply %.2f spill %.2f write %.2f ms, %d writes, %.0f KB)",
							float64(s.LogBytes-lastStats.LogBytes)/1024/float64(max(1, commits)), ck,
							ms((s.CheckpointTime-lastStats.CheckpointTime)/n), ms((s.ApplyTime-lastStats.ApplyTime)/n),
							ms((s.SpillTime-lastStats.SpillTime)/n), ms((s.WriteTime-lastStats.WriteTime)/n),
							(s.Writes-lastStats.Writes)/int64(ck), float64(s.PageBytes-lastStats.PageBytes)/1024/float64(ck))
					}
					lastStats = s
				}
				fmt.Fprintln(os.Stderr, line)
			}
		}
	}()
	return t
}

// schedHist is the runtime's histogram of the time goroutines spent runnable before they ran.
type schedHist struct {
	counts    []uint64
	buckets   []float64
	gcs, live uint64 // garbage collections so far, and the heap they found live
}

func readSched() schedHist {
	s := []metrics.Sample{{Name: "/sched/latencies:seconds"}, {Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	h := s[0].Value.Float64Histogram()
	return schedHist{counts: slices.Clone(h.Counts), buckets: h.Buckets, gcs: s[1].Value.Uint64(), live: s[2].Value.Uint64()}
}

func (h schedHist) minus(o schedHist) schedHist {
	d := schedHist{counts: slices.Clone(h.counts), buckets: h.buckets, gcs: h.gcs - o.gcs, live: h.live}
	for i := range min(len(d.counts), len(o.counts)) {
		d.counts[i] -= o.counts[i]
	}
	return d
}

// quantile is the upper bound of the bucket that holds the q quantile.
func (h schedHist) quantile(q float64) time.Duration {
	var total uint64
	for _, c := range h.counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	want, seen := uint64(math.Ceil(q*float64(total))), uint64(0)
	for i, c := range h.counts {
		if seen += c; seen >= want {
			hi := h.buckets[i+1]
			if math.IsInf(hi, 1) {
				hi = h.buckets[i]
			}
			return time.Duration(hi * float64(time.Second))
		}
	}
	return 0
}

func (t *timeline) add(d time.Duration) {
	t.mu.Lock()
	t.flows = append(t.flows, d)
	t.mu.Unlock()
}

func (t *timeline) stop() {
	close(t.done)
	t.wg.Wait()
}
