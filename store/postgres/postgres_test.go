package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/postgres"
	"github.com/trustsign/trustsign/store/storetest"
)

// testURL returns the test server's URL from TRUSTSIGN_TEST_POSTGRES, or skips the test.
func testURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("TRUSTSIGN_TEST_POSTGRES")
	if url == "" {
		t.Skip("TRUSTSIGN_TEST_POSTGRES not set: start a server with store/postgres/testdb.sh and export the URL it prints")
	}
	return url
}

// schemaFor names a schema after a directory, so each suite test gets its own tables and a reopen of the same
// directory finds them again.
func schemaFor(dir string) string {
	h := sha256.Sum256([]byte(dir))
	return "t_" + hex.EncodeToString(h[:10])
}

func openIn(t *testing.T, url, dir string, opts postgres.Options) *postgres.DB {
	t.Helper()
	opts.Schema = schemaFor(dir)
	db, err := postgres.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropSchema(t, url, opts.Schema) })
	return db
}

// dropSchema removes a test's schema once the test is over (the server is throw-away, but tests run repeatedly).
func dropSchema(t *testing.T, url, schema string) {
	db, err := postgres.Open(context.Background(), url, postgres.Options{NoChainKey: true})
	if err != nil {
		t.Logf("dropping %s: %v", schema, err)
		return
	}
	defer db.Close()
	if _, err := db.Pool().Exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
		t.Logf("dropping %s: %v", schema, err)
	}
}

func TestConformance(t *testing.T) {
	url := testURL(t)
	storetest.Run(t, storetest.Suite{Open: func(t *testing.T, dir string) store.Backend {
		return openIn(t, url, dir, postgres.Options{ChainKeyFile: filepath.Join(dir, "audit-chain.key")}).Backend()
	}})
}

func TestClosedStoreReturnsErrClosed(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	db := openIn(t, url, dir, postgres.Options{NoChainKey: true})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	err := db.Backend().Update(context.Background(), func(store.KVTx) error { return nil })
	if !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Update after Close: %v, want ErrClosed", err)
	}
}

func TestChainKeyOfAnotherNodeRefused(t *testing.T) {
	url := testURL(t)
	dir := t.TempDir()
	keyA, keyB := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	db := openIn(t, url, dir, postgres.Options{ChainKeyFile: keyA})
	db.Close()
	// the same key file reopens
	db = openIn(t, url, dir, postgres.Options{ChainKeyFile: keyA})
	db.Close()
	// a node without the key, or with a key of its own, is refused rather than forking the chain
	for _, opts := range []postgres.Options{{ChainKeyFile: keyB}} {
		opts.Schema = schemaFor(dir)
		if _, err := postgres.Open(context.Background(), url, opts); !errors.Is(err, postgres.ErrChainKeyMissing) {
			t.Fatalf("open with %s: %v, want ErrChainKeyMissing", opts.ChainKeyFile, err)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	url := testURL(t)
	db := openIn(t, url, t.TempDir(), postgres.Options{NoChainKey: true})
	defer db.Close()
	kv := db.Backend()
	keys := [][]byte{{0xFF}, {0xFF, 0xFF}, {0xFF, 0xFF, 0x00}, {0xFF, 0xFE}, {0x00}, {0x01, 0xFF}, {0x02}}
	ctx := context.Background()
	if err := kv.Update(ctx, func(tx store.KVTx) error {
		for _, k := range keys {
			if err := tx.Put("p", k, []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		prefix []byte
		want   int
	}{
		{[]byte{0xFF}, 4},
		{[]byte{0xFF, 0xFF}, 2},
		{[]byte{0x01}, 1},
		{[]byte{0x01, 0xFF}, 1},
		{nil, 7},
	}
	for _, tc := range tests {
		n := 0
		if err := kv.View(ctx, func(tx store.KVTx) error {
			return tx.Scan("p", tc.prefix, nil, func(k, v []byte) (bool, error) { n++; return true, nil })
		}); err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("prefix %x: %d keys, want %d", tc.prefix, n, tc.want)
		}
	}
}
