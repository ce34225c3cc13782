package bbolt

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/trustsign/trustsign/store"
)

// TestOverlayLastMatchesMerged: Last over the layers (a function's own writes, the group's, the group being
// committed) and the stored keys is the greatest key live in their merge, whatever puts and deletes each layer
// holds (its fast path takes the greatest key the layers wrote when that one is live).
func TestOverlayLastMatchesMerged(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rnd := rand.New(rand.NewPCG(1, 2))
	key := func() string { return fmt.Sprintf("k%02d", rnd.IntN(30)) }
	for round := range 300 {
		stored := map[string]string{}
		if err := db.Update(func(tx *bolt.Tx) error {
			tx.DeleteBucket([]byte("b")) //nolint:errcheck // absent the first time
			b, err := tx.CreateBucket([]byte("b"))
			if err != nil {
				return err
			}
			for range rnd.IntN(6) {
				k := key()
				stored[k] = "stored"
				if err := b.Put([]byte(k), []byte("stored")); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		layers := make([]*layer, 1+rnd.IntN(3)) // oldest last, as overlay.below
		for i := range layers {
			layers[i] = &layer{}
		}
		merged := map[string]string{}
		for k, v := range stored {
			merged[k] = v
		}
		for i := len(layers) - 1; i >= 0; i-- { // oldest first
			for range rnd.IntN(6) {
				k := key()
				if rnd.IntN(3) == 0 {
					layers[i].set("b", k, oentry{del: true})
					delete(merged, k)
				} else {
					v := fmt.Sprintf("layer%d", i)
					layers[i].set("b", k, oentry{v: []byte(v)})
					merged[k] = v
				}
			}
		}
		want, found := "", false
		for k := range merged {
			if !found || k > want {
				want, found = k, true
			}
		}
		if err := db.View(func(tx *bolt.Tx) error {
			o := &overlay{tx: tx, own: *layers[0], below: layers[1:]}
			k, v, err := o.Last("b")
			switch {
			case !found && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("round %d: Last %q %v, want not found", round, k, err)
			case found && (err != nil || string(k) != want || string(v) != merged[want]):
				t.Fatalf("round %d: Last %q=%q %v, want %q=%q", round, k, v, err, want, merged[want])
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}
