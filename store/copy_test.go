package store_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
)

// copySource makes a bbolt store with typed records (a signed request with its documents, a maintenance window,
// audit records) and one raw key in every other bucket, closed; it returns its directory.
func copySource(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := bbolt.OpenDir(dir, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for i := range 7 {
		id := fmt.Sprintf("r%d", i)
		req := store.SigningRequest{ID: id, ClientID: "c1", BatchID: "b1", Status: store.RequestPending, FileName: "recepta.xml",
			Format: "xades", Document: []byte("<recepta n='" + id + "'/>"), Created: now, Expires: now.Add(time.Hour)}
		if err := db.CreateSigningRequest(ctx, req, audit.Event{Time: now, Kind: "signing.request.create", Actor: "client:c1", Subject: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AttachSignedDocument(ctx, "r3", store.RequestPending, []byte("<signed/>"), "application/xml", now,
		audit.Event{Time: now, Kind: "signing.request.signed", Actor: "system", Subject: "r3"}); err != nil {
		t.Fatal(err)
	}
	w := store.MaintenanceWindow{ID: "mw-1", Start: now, End: now.Add(time.Hour), Message: "prace", Created: now}
	if err := db.AddMaintenanceWindow(ctx, w, audit.Event{Time: now, Kind: "maintenance.add", Actor: "admin", Subject: w.ID}); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := (&audit.Sealer{Signer: key}).SealNow(ctx, db, audit.SealShutdown); err != nil { // a signed head
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(tx *store.Tx) error {
		for _, b := range store.Buckets() {
			found := false
			tx.KV().Scan(b, nil, nil, func(_, _ []byte) (bool, error) { found = true; return false, nil })
			if !found {
				if err := tx.KV().Put(b, []byte("k-"+b), []byte("v-"+b)); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// emptyTarget opens a new bbolt store and removes the end-of-log mark Open wrote, leaving it without any record.
func emptyTarget(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.OpenDir(t.TempDir(), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Backend().Update(context.Background(), func(kv store.KVTx) error { return kv.Delete("audit_tip", []byte("tip")) }); err != nil {
		t.Fatal(err)
	}
	return db
}

func openSource(t *testing.T, dir string) *bbolt.DB {
	t.Helper()
	src, err := bbolt.OpenDir(dir, bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func TestCopy(t *testing.T) {
	ctx := context.Background()
	dir := copySource(t)
	src := openSource(t, dir)
	dst := emptyTarget(t)
	var commits int
	counts, err := store.Copy(ctx, src.Backend(), dst.Backend(), store.CopyOptions{BatchKeys: 3, Progress: func(string, int) { commits++ }})
	if err != nil {
		t.Fatal(err)
	}
	total := map[string]int{}
	for _, c := range counts {
		total[c.Bucket] = c.Keys
		if c.Keys == 0 {
			t.Errorf("bucket %s: nothing copied", c.Bucket)
		}
	}
	if len(counts) != len(store.Buckets()) || total["sigreq"] != 7 || total["sigreq_doc"] != 7 || total["sigreq_signed"] != 1 || total["audit"] != 10 {
		t.Fatalf("counts %v", counts)
	}
	if commits < len(counts)+3 { // sigreq, sigreq_doc and audit take more than one commit of 3 keys
		t.Errorf("%d commits: the batches were not bounded", commits)
	}
	// the records read back through the typed layer, and the audit log verifies under the source's key
	dst.SetAuditChainKey(src.AuditChainKey())
	r, err := dst.GetSignedDocument(ctx, "c1", "r3")
	if err != nil || string(r.Signed) != "<signed/>" {
		t.Fatalf("signed document on the copy: %+v %v", r, err)
	}
	batch, err := dst.ListSigningRequestsInBatch(ctx, "c1", "b1")
	if err != nil || len(batch) != 7 {
		t.Fatalf("batch index on the copy: %d %v", len(batch), err)
	}
	want, err := audit.VerifyStore(ctx, src, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := audit.VerifyStore(ctx, dst, audit.VerifyOptions{})
	if err != nil || got.Records != want.Records || got.Keyed != want.Keyed || got.Keyed == 0 {
		t.Fatalf("audit on the copy: %+v %v, source %+v", got, err, want)
	}
}

func TestCopyRefusesATargetWithRecords(t *testing.T) {
	ctx := context.Background()
	src := openSource(t, copySource(t))
	for _, b := range []string{"profiles", "audit", "audit_tip", "rate_windows"} {
		t.Run(b, func(t *testing.T) {
			dst := emptyTarget(t)
			dst.Backend().Update(ctx, func(kv store.KVTx) error { return kv.Put(b, []byte("x"), []byte("y")) })
			_, err := store.Copy(ctx, src.Backend(), dst.Backend(), store.CopyOptions{})
			if !errors.Is(err, store.ErrNotEmpty) || !strings.Contains(err.Error(), b) {
				t.Fatalf("err %v, want ErrNotEmpty naming %s", err, b)
			}
			n := 0
			dst.Backend().View(ctx, func(kv store.KVTx) error {
				return kv.Scan("sigreq", nil, nil, func(_, _ []byte) (bool, error) { n++; return true, nil })
			})
			if n != 0 {
				t.Fatalf("%d requests copied into a refused target", n)
			}
		})
	}
}

// lossyBackend drops the Put of one key: the final comparison must catch the loss.
type lossyBackend struct {
	store.Backend
	drop string
}

func (l lossyBackend) Update(ctx context.Context, fn func(store.KVTx) error) error {
	return l.Backend.Update(ctx, func(kv store.KVTx) error { return fn(lossyTx{kv, l.drop}) })
}

type lossyTx struct {
	store.KVTx
	drop string
}

func (l lossyTx) Put(bucket string, k, v []byte) error {
	if string(k) == l.drop {
		return nil
	}
	return l.KVTx.Put(bucket, k, v)
}

func TestCopyDetectsALostKey(t *testing.T) {
	src := openSource(t, copySource(t))
	dst := emptyTarget(t)
	_, err := store.Copy(context.Background(), src.Backend(), lossyBackend{dst.Backend(), "r5"}, store.CopyOptions{})
	if !errors.Is(err, store.ErrCopyMismatch) || !strings.Contains(err.Error(), "sigreq") {
		t.Fatalf("err %v, want ErrCopyMismatch naming the bucket", err)
	}
}

// TestBucketsListsEveryBucket: every bucket constant of the package's layout is in Buckets (a bucket added to the
// layout and forgotten here would silently not be migrated).
func TestBucketsListsEveryBucket(t *testing.T) {
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	var declared []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				// bucket constants are named b + a capital letter, with a string literal value
				if len(name.Name) < 2 || name.Name[0] != 'b' || name.Name[1] < 'A' || name.Name[1] > 'Z' || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					declared = append(declared, s)
				}
			}
			return true
		})
	}
	if len(declared) < 20 {
		t.Fatalf("found only %d bucket constants: the naming changed, update this test", len(declared))
	}
	for _, b := range declared {
		if !slices.Contains(store.Buckets(), b) {
			t.Errorf("bucket %q is not in store.Buckets: Copy would not migrate it", b)
		}
	}
}
