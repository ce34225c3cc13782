package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/postgres"
)

// TestPutMany: the bulk put store.Copy uses stores every pair (an empty value too), overwrites, keeps bbolt's key
// order, and refuses an empty key without writing anything.
func TestPutMany(t *testing.T) {
	url := testURL(t)
	db := openIn(t, url, t.TempDir(), postgres.Options{NoChainKey: true})
	defer db.Close()
	ctx := context.Background()
	put := func(keys, values [][]byte) error {
		return db.Backend().Update(ctx, func(tx store.KVTx) error {
			bp, ok := tx.(store.BulkPutter)
			if !ok {
				t.Fatal("the PostgreSQL transaction is not a store.BulkPutter")
			}
			return bp.PutMany("b", keys, values)
		})
	}
	if err := put([][]byte{{0x02}, {0x01, 0xff}, {0x01}}, [][]byte{[]byte("two"), nil, []byte("one")}); err != nil {
		t.Fatal(err)
	}
	if err := put([][]byte{{0x01}}, [][]byte{[]byte("uno")}); err != nil {
		t.Fatal(err)
	}
	if err := put([][]byte{{0x03}, {}}, [][]byte{[]byte("three"), []byte("x")}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty key: %v, want ErrInvalid", err)
	}
	var got []string
	db.Backend().View(ctx, func(tx store.KVTx) error {
		return tx.Scan("b", nil, nil, func(k, v []byte) (bool, error) { got = append(got, string(k)+"="+string(v)); return true, nil })
	})
	want := []string{"\x01=uno", "\x01\xff=", "\x02=two"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
