package store_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/trustsign/trustsign/store/bbolt"
)

// Two service processes on one store run a periodic job once: the one that takes the lease runs it, the other
// skips until the lease runs out (its holder died) or is released.
func ExampleDB_TryLease() {
	dir, _ := os.MkdirTemp("", "trustsign")
	defer os.RemoveAll(dir)
	db, err := bbolt.OpenDir(dir, bbolt.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	ctx := context.Background()
	t0 := time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)
	for _, try := range []struct {
		node string
		at   time.Time
	}{{"node-a", t0}, {"node-b", t0.Add(10 * time.Second)}, {"node-a", t0.Add(time.Minute)}, {"node-b", t0.Add(3 * time.Minute)}} {
		ok, err := db.TryLease(ctx, "sweeps", try.node, try.at, 75*time.Second)
		if err != nil {
			panic(err)
		}
		fmt.Println(try.at.Sub(t0), try.node, ok)
	}
	// Output:
	// 0s node-a true
	// 10s node-b false
	// 1m0s node-a true
	// 3m0s node-b true
}
