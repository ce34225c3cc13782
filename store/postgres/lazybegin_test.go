package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/postgres/pgtest"
)

// TestLazyBegin: a transaction's BEGIN goes with its first statement, of whichever kind, and the transaction is
// still serializable (and read-only for a View) from that statement on; a transaction with no statement sends
// nothing; a first statement that fails leaves the connection idle for the next transaction.
func TestLazyBegin(t *testing.T) {
	db, err := Open(context.Background(), pgtest.Database(t, "lazybegin"), Options{NoChainKey: true, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	setting := func(k *kvTx, first string) (iso, ro string) {
		t.Helper()
		switch first {
		case "queryRow":
			if err := k.queryRow([]any{&iso}, `SELECT current_setting('transaction_isolation')`); err != nil {
				t.Fatal(err)
			}
		case "exec":
			if err := k.exec(`SELECT 1`); err != nil {
				t.Fatal(err)
			}
		case "query":
			rows, err := k.query(`SELECT 1`)
			if err != nil {
				t.Fatal(err)
			}
			rows.Close()
		}
		if err := k.conn.QueryRow(k.ctx, `SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')`).Scan(&iso, &ro); err != nil {
			t.Fatal(err)
		}
		return iso, ro
	}
	for _, first := range []string{"queryRow", "exec", "query"} {
		for _, readOnly := range []bool{false, true} {
			err := db.run(ctx, readOnly, func(kv store.KVTx) error {
				iso, ro := setting(kv.(*kvTx), first)
				if want := map[bool]string{false: "off", true: "on"}[readOnly]; iso != "serializable" || ro != want {
					t.Errorf("first statement %s, read-only %v: isolation %s, read-only %s", first, readOnly, iso, ro)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.run(ctx, true, func(kv store.KVTx) error {
		if kv.(*kvTx).begun {
			t.Error("begun before any statement")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// a first statement that fails: the transaction fails, and the connections all come back idle
	for range 4 {
		err := db.run(ctx, false, func(kv store.KVTx) error {
			k := kv.(*kvTx)
			return k.fail(k.exec(`SELECT no_such_column FROM kv`))
		})
		if err == nil {
			t.Fatal("a failed first statement passed")
		}
	}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.KV().Put("b", []byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	read := func() (got []byte, err error) {
		err = db.View(ctx, func(tx *store.Tx) error {
			got, err = tx.KV().Get("b", []byte("k"))
			return err
		})
		return got, err
	}
	if got, err := read(); err != nil || string(got) != "v" {
		t.Fatalf("after failed transactions: %q %v", got, err)
	}
	// an Update whose fn fails after a write commits nothing
	errLater := errors.New("later")
	if err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.KV().Put("b", []byte("k"), []byte("w")); err != nil {
			return err
		}
		return errLater
	}); !errors.Is(err, errLater) {
		t.Fatal(err)
	}
	if got, err := read(); err != nil || string(got) != "v" {
		t.Fatalf("after a rolled-back write: %q %v", got, err)
	}
	if idle, total := db.pool.Stat().IdleConns(), db.pool.Stat().TotalConns(); idle != total {
		t.Errorf("%d of %d connections idle", idle, total)
	}
}
