package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
)

// Copy a stopped store, opened read-only, into another backend (here a second bbolt file, with its end-of-log mark
// removed so it holds nothing; `trustsign admin migrate` does this into PostgreSQL).
func ExampleCopy() {
	dir, _ := os.MkdirTemp("", "trustsign")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	src, _ := bbolt.OpenDir(filepath.Join(dir, "src"), bbolt.Options{})
	t0 := time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)
	if err := src.AddMaintenanceWindow(ctx, store.MaintenanceWindow{ID: "mw-1", Start: t0, End: t0.Add(time.Hour)}); err != nil {
		panic(err)
	}
	src.Close()

	src, err := bbolt.OpenDir(filepath.Join(dir, "src"), bbolt.Options{ReadOnly: true})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	dst, _ := bbolt.OpenDir(filepath.Join(dir, "dst"), bbolt.Options{})
	defer dst.Close()
	dst.Backend().Update(ctx, func(kv store.KVTx) error { return kv.Delete("audit_tip", []byte("tip")) })

	counts, err := store.Copy(ctx, src.Backend(), dst.Backend(), store.CopyOptions{})
	for _, c := range counts {
		if c.Keys > 0 {
			fmt.Println(c.Bucket, c.Keys)
		}
	}
	fmt.Println(err)
	_, err = store.Copy(ctx, src.Backend(), dst.Backend(), store.CopyOptions{})
	fmt.Println(err)
	// Output:
	// maintenance 1
	// idx_maintenance 1
	// audit_tip 1
	// <nil>
	// store: the target store is not empty: bucket maintenance holds records
}
