package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/postgres"
	"github.com/trustsign/trustsign/store/postgres/pgtest"
)

type jobClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *jobClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *jobClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// jobLoop is one node's periodic loop, driven by the test's ticks.
type jobLoop struct {
	name    string
	ticks   chan time.Time
	stepped chan bool
	cancel  context.CancelFunc
	done    chan struct{}
}

func startJobLoop(t *testing.T, p *periodic) *jobLoop {
	t.Helper()
	l := &jobLoop{name: p.holder, ticks: make(chan time.Time), stepped: make(chan bool), done: make(chan struct{})}
	p.stepped = l.stepped
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go func() { p.run(ctx, l.ticks); close(l.done) }()
	<-l.stepped // the look at start
	t.Cleanup(l.stop)
	return l
}

func (l *jobLoop) stop() {
	l.cancel()
	<-l.done
}

// tick advances the clock a quarter interval and lets every loop take its look at once; it returns who ran.
func tick(clock *jobClock, every time.Duration, loops ...*jobLoop) []string {
	clock.Advance(every / 4)
	for _, l := range loops {
		l.ticks <- clock.Now()
	}
	var ran []string
	for _, l := range loops {
		if <-l.stepped {
			ran = append(ran, l.name)
		}
	}
	return ran
}

// TestAuditSealOncePerIntervalAcrossNodes: two nodes on one PostgreSQL run serve's audit-seal loop at once; the
// chain gets one interval seal per interval, not one per node. When the node sealing dies (its loop stops without
// releasing the lease), the other takes the seals over within 1.5 intervals and keeps one per interval; the chain
// verifies as fresh. A loop that stops cleanly releases its lease.
func TestAuditSealOncePerIntervalAcrossNodes(t *testing.T) {
	url := pgtest.Database(t, "jobs")
	keyFile := filepath.Join(t.TempDir(), audit.ChainKeyFileName)
	ctx := context.Background()
	open := func() *postgres.DB {
		db, err := postgres.Open(ctx, url, postgres.Options{ChainKeyFile: keyFile})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbA, dbB := open(), open()
	clock := &jobClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sealer := &audit.Sealer{Signer: key, Clock: clock}
	if err := dbA.AppendAudit(ctx, audit.Event{Time: clock.Now(), Kind: "test.start", Actor: "system", Subject: "jobs"}); err != nil {
		t.Fatal(err)
	}
	const every = time.Minute
	logger := slog.New(slog.DiscardHandler)
	a := startJobLoop(t, auditSeals(dbA.DB, sealer, "nodeA", every, clock.Now, logger))
	b := startJobLoop(t, auditSeals(dbB.DB, sealer, "nodeB", every, clock.Now, logger))
	intervalSeals := func() int {
		t.Helper()
		var out strings.Builder
		if _, err := audit.Export(ctx, dbB, &out); err != nil {
			t.Fatal(err)
		}
		return strings.Count(out.String(), `"reason":"interval"`)
	}

	const intervals = 10
	var holder string
	for range 4 * intervals {
		ran := tick(clock, every, a, b)
		if len(ran) > 1 {
			t.Fatalf("both nodes sealed at one look: %v", ran)
		}
		if len(ran) == 1 {
			holder = ran[0]
		}
	}
	if n := intervalSeals(); n != intervals {
		t.Fatalf("%d interval seals from two nodes over %d intervals, want one per interval", n, intervals)
	}

	// the holder dies: its loop takes no more looks and keeps its lease until it runs out
	survivor := b
	if holder == "nodeB" {
		survivor = a
	}
	lastRun := 0
	first := 0
	for i := 1; i <= 4*intervals; i++ {
		if ran := tick(clock, every, survivor); len(ran) == 1 {
			if first == 0 {
				first = i
			}
			if lastRun != 0 && i-lastRun < 4 {
				t.Fatalf("the survivor sealed %d quarter intervals after its last seal", i-lastRun)
			}
			lastRun = i
		}
	}
	if first == 0 || first > 6 {
		t.Fatalf("the survivor took the seals over %d quarter intervals after the holder's last seal, want within 1.5 intervals", first)
	}
	if n := intervalSeals(); n < 2*intervals-2 || n > 2*intervals {
		t.Errorf("%d interval seals over %d intervals with one node lost", n, 2*intervals)
	}
	if _, err := audit.VerifyStore(ctx, dbA, audit.VerifyOptions{SealInterval: every, Now: clock.Now()}); err != nil {
		t.Errorf("the chain sealed by the lease holders does not verify as fresh: %v", err)
	}

	// a clean stop gives the lease up
	survivor.stop()
	if err := dbA.View(ctx, func(tx *store.Tx) error {
		_, err := tx.Lease("audit-seal")
		return err
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the lease after a clean stop: %v", err)
	}
}
