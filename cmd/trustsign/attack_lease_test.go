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
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/store/postgres"
	"github.com/trustsign/trustsign/store/postgres/pgtest"
)

// brokenSealer is a node whose seal key cannot sign (its token gone): every seal fails.
type brokenSealer struct{}

func (brokenSealer) SealNow(context.Context, audit.Updater, string) (bool, error) {
	return false, signer.ErrTokenUnavailable
}

// TestAuditSealLeaseNotHeldByAFailingNode: the node holding the "audit-seal" lease renews it before it runs the
// job, whatever becomes of the job. A node whose seal key cannot sign (token removed, PIN locked: /readyz says 503
// and the load balancer drops it, but its background jobs go on) keeps the lease for good, and the deployment
// makes no interval seal although another node could: the log's end goes unsealed (audit verify reports a stale
// seal) until that node is stopped. Now a failed run gives the lease up and node B takes the seals over.
func TestAuditSealLeaseNotHeldByAFailingNode(t *testing.T) {
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
	if err := dbA.AppendAudit(ctx, audit.Event{Time: clock.Now(), Kind: "test.start", Actor: "system", Subject: "jobs"}); err != nil {
		t.Fatal(err)
	}
	const every = time.Minute
	logger := slog.New(slog.DiscardHandler)
	a := startJobLoop(t, auditSeals(dbA.DB, brokenSealer{}, "nodeA", every, clock.Now, logger))
	for ran := []string(nil); len(ran) == 0; { // A takes the lease first
		ran = tick(clock, every, a)
	}
	b := startJobLoop(t, auditSeals(dbB.DB, &audit.Sealer{Signer: key, Clock: clock}, "nodeB", every, clock.Now, logger))
	const intervals = 10
	for range 4 * intervals {
		tick(clock, every, a, b)
	}
	var out strings.Builder
	if _, err := audit.Export(ctx, dbB, &out); err != nil {
		t.Fatal(err)
	}
	n := strings.Count(out.String(), `"reason":"interval"`)
	_, err := audit.VerifyStore(ctx, dbB, audit.VerifyOptions{SealInterval: every, Now: clock.Now()})
	var be *audit.BrokenError
	if n < intervals-2 || errors.As(err, &be) {
		t.Errorf("%d interval seals over %d intervals while node B could seal (node A, which cannot, kept the lease); verify: %v", n, intervals, err)
	}
}
