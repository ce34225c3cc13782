package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/postgres"
)

// benchWriters are the concurrent writers the audit benchmarks run with.
var benchWriters = []int{1, 4, 16, 64}

// runWriters runs b.N calls of op spread over writers goroutines and reports ops/s (and failed/op: calls that
// returned an error, the first of which is logged).
func runWriters(b *testing.B, writers int, op func(i int) error) (failed int64) {
	b.Helper()
	var next, fails atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := op(int(i)); err != nil {
					fails.Add(1)
					once.Do(func() { b.Logf("%d writers: %v", writers, err) })
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N-int(fails.Load()))/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(fails.Load())/float64(b.N), "failed/op")
	return fails.Load()
}

func benchDB(b *testing.B) *postgres.DB {
	b.Helper()
	url := testURL(b)
	dir := b.TempDir()
	opts := postgres.Options{ChainKeyFile: filepath.Join(dir, audit.ChainKeyFileName), MaxConns: 80, Schema: schemaFor(dir)}
	db, err := postgres.Open(context.Background(), url, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close(); dropSchema(b, url, opts.Schema) })
	return db
}

// BenchmarkCommit is the reference: one transaction writing one key no other transaction touches (one commit's
// latency at 1 writer; what the database commits in parallel at more).
func BenchmarkCommit(b *testing.B) {
	for _, w := range benchWriters {
		b.Run(fmt.Sprintf("writers=%d", w), func(b *testing.B) {
			db := benchDB(b)
			ctx := context.Background()
			if runWriters(b, w, func(i int) error {
				return db.Backend().Update(ctx, func(tx store.KVTx) error {
					return tx.Put("bench", []byte(fmt.Sprintf("k%09d", i)), []byte("v"))
				})
			}) > 0 {
				b.Fatal("a commit failed")
			}
		})
	}
}

// inlineBackend hides the backend's store.AuditQueue: a store.DB over it extends the chain in every writing
// transaction, as bbolt does (the design before the queue), for comparison on the same database.
type inlineBackend struct{ store.Backend }

// BenchmarkAuditAppendParallel is a domain write with one audit event (a key of its own and tx.Audit), at several
// concurrent writers, with the chain extended in the writing transaction (inline) and with the event queued for the
// chainer (queued): ops/s are committed domain transactions (each with its event durable), retries/op the attempts
// run again per transaction (chainer included), failed/op the transactions that still failed after
// Options.MaxAttempts, chained/s includes waiting until every event is in the chain.
func BenchmarkAuditAppendParallel(b *testing.B) {
	for _, w := range benchWriters {
		for _, design := range []string{"inline", "queued"} {
			b.Run(fmt.Sprintf("writers=%d/%s", w, design), func(b *testing.B) {
				pg := benchDB(b)
				db := pg.DB
				if design == "inline" {
					db = store.New(inlineBackend{pg.Backend()})
					db.SetAuditChainKey(pg.AuditChainKey())
				}
				ctx := context.Background()
				before := pg.Retries()
				start := time.Now()
				failed := runWriters(b, w, func(i int) error {
					return db.Update(ctx, func(tx *store.Tx) error {
						if err := tx.KV().Put("bench", []byte(fmt.Sprintf("k%09d", i)), []byte("v")); err != nil {
							return err
						}
						return tx.Audit(audit.Event{Time: time.Now(), Kind: "bench.write", Actor: "system", Subject: fmt.Sprint(i)})
					})
				})
				b.StartTimer()
				if _, err := db.ChainAudit(ctx); err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				if failed > 0 && design == "queued" {
					b.Fatalf("%d writes failed", failed)
				}
				rep, err := audit.VerifyStore(ctx, pg, audit.VerifyOptions{})
				if err != nil || rep.Records != uint64(b.N)-uint64(failed) || rep.Pending != 0 {
					b.Fatalf("after %d writes: %+v, %v", b.N, rep, err)
				}
				b.ReportMetric(float64(pg.Retries()-before)/float64(b.N), "retries/op")
				b.ReportMetric(float64(b.N-int(failed))/elapsed.Seconds(), "chained/s")
			})
		}
	}
}
