package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/trustsign/trustsign/store"
)

// leaser takes and gives up the store's leases (*store.DB).
type leaser interface {
	TryLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

var _ leaser = (*store.DB)(nil)

// periodic runs a job once per interval over every node sharing the store (the sweeps, the audit seal), not once
// per node: the node holding the store lease `name` runs it. The loop looks every quarter interval; the node that
// ran the job an interval ago (its fourth look since) renews the lease for 1.25 intervals and runs it again, the
// others find the lease held and skip. While the holder lives the job runs once per interval; when it dies its
// lease runs out 1.25 intervals after its last run and another node takes the job at its next look (within 1.5
// intervals of the last run); a node that stops cleanly releases the lease, so another takes over at its next
// look. A run that fails gives the lease up, so that another node runs the job at its next look instead of this one
// holding the job while it cannot do it (a node whose seal token is gone would otherwise stop the audit seals of the
// whole deployment). The nodes' clocks must agree to well within a quarter interval.
type periodic struct {
	db     leaser
	name   string
	holder string
	every  time.Duration
	now    func() time.Time
	job    func(ctx context.Context) error
	logger *slog.Logger

	last time.Time // when this node last ran the job
	// stepped, when set, is told after each look (tests).
	stepped chan<- bool
}

// step is one look: run the job if it is this node's turn. It reports whether it ran.
func (p *periodic) step(ctx context.Context) bool {
	now := p.now()
	// an eighth of slack: a tick a little early is still the fourth since the last run
	if !p.last.IsZero() && now.Sub(p.last) < p.every-p.every/8 {
		return false
	}
	ok, err := p.db.TryLease(ctx, p.name, p.holder, now, p.every+p.every/4)
	if err != nil {
		if ctx.Err() == nil {
			p.logger.Error("lease", "job", p.name, "error", err.Error())
		}
		return false
	}
	if !ok {
		return false
	}
	p.last = now
	if err := p.job(ctx); err != nil && ctx.Err() == nil {
		// another node may succeed: it takes the lease at its next look; this node's turn comes an interval on
		if err := p.db.ReleaseLease(ctx, p.name, p.holder); err != nil {
			p.logger.Error("lease release after a failed run", "job", p.name, "error", err.Error())
		}
	}
	return true
}

// run looks at every tick until ctx is done, then gives the lease up.
func (p *periodic) run(ctx context.Context, ticks <-chan time.Time) {
	defer func() {
		if err := p.db.ReleaseLease(context.WithoutCancel(ctx), p.name, p.holder); err != nil {
			p.logger.Error("lease release", "job", p.name, "error", err.Error())
		}
	}()
	for {
		ran := p.step(ctx)
		if p.stepped != nil {
			p.stepped <- ran
		}
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}

// runEvery runs p on a ticker of a quarter of its interval.
func (p *periodic) runEvery(ctx context.Context) {
	t := time.NewTicker(max(p.every/4, time.Millisecond))
	defer t.Stop()
	p.run(ctx, t.C)
}

// nodeName names this process among the nodes on one store (a lease's holder): host, process id and a random
// part, so that a restarted process is another holder.
func nodeName() string {
	host, _ := os.Hostname()
	var r [4]byte
	rand.Read(r[:]) //nolint:errcheck // crypto/rand does not fail
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(r[:]))
}
