package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store/postgres/pgtest"

	"github.com/jackc/pgx/v5"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/store/postgres"
)

// migrateSource is a stopped server's data directory with records made through the domain: a client, an officer,
// a holder registered and confirmed in person, a session, a signing request with a signing code issued for it, a
// maintenance window, and a shutdown seal of the audit log.
type migrateSource struct {
	dir, clientID, officerID, profileID, login, requestID string
}

func newMigrateSource(t *testing.T) migrateSource {
	t.Helper()
	ctx := context.Background()
	s := migrateSource{dir: t.TempDir(), login: "zofia_proba"}
	sent := &codeCatcher{}
	d, err := openDomain(s.dir, sent)
	if err != nil {
		t.Fatal(err)
	}
	defer d.db.Close()
	cl, _, err := d.profiles.CreateClient(ctx, "e-recepta", []profile.Scope{profile.ScopeSign})
	if err != nil {
		t.Fatal(err)
	}
	s.clientID = cl.ID
	o, err := d.profiles.CreateOfficer(ctx, "urzednik1", "Urzednik-Test-2026!", "Anna Urzędnicza")
	if err != nil {
		t.Fatal(err)
	}
	s.officerID = o.ID
	const pw = "Haslo-Zofii-2026!"
	reg, err := d.profiles.Register(ctx, profile.Application{Login: s.login, Password: pw, FirstName: "Zofia", Surname: "Próbna",
		PESEL: testPESEL(4242), Email: "zofia@example.test", Phone: "+48500100300", CodeChannel: profile.ChannelEmail})
	if err != nil {
		t.Fatal(err)
	}
	s.profileID = reg.ID
	d.profiles.WaitForDeliveries()
	if err := d.profiles.ConfirmContact(ctx, reg.ID, sent.last()); err != nil {
		t.Fatal(err)
	}
	if _, err := d.profiles.ConfirmInPerson(ctx, o.ID, reg.ApplicationNumber, profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.profiles.Login(ctx, s.login, pw); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	doc := []byte("<recepta>migracja</recepta>")
	digest := sha256.Sum256(doc)
	s.requestID = "req-migrate-1"
	req := store.SigningRequest{ID: s.requestID, ClientID: cl.ID, Status: store.RequestPending, FileName: "recepta.xml", Format: "xades",
		Digest: digest[:], Document: doc, DocumentSize: int64(len(doc)), ProfileID: reg.ID, Created: now, Updated: now, Expires: now.Add(time.Hour)}
	if err := d.db.CreateSigningRequest(ctx, req, audit.Event{Time: now, Kind: "signing.request.create", Actor: "client:" + cl.ID, Subject: req.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.profiles.IssueSigningCode(ctx, reg.ID, req.ID, req.FileName, digest[:]); err != nil {
		t.Fatal(err)
	}
	w := store.MaintenanceWindow{ID: "mw-migrate", Start: now.Add(24 * time.Hour), End: now.Add(25 * time.Hour), Message: "przeprowadzka", Created: now}
	if err := d.db.AddMaintenanceWindow(ctx, w, audit.Event{Time: now, Kind: "maintenance.add", Actor: "admin", Subject: w.ID}); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := (&audit.Sealer{Signer: key}).SealNow(ctx, d.db, audit.SealShutdown); err != nil {
		t.Fatal(err)
	}
	return s
}

// codeCatcher keeps the one-time codes the profile service sends.
type codeCatcher struct {
	mu    sync.Mutex
	codes []string
}

func (c *codeCatcher) Send(_ context.Context, m notify.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.Code != "" {
		c.codes = append(c.codes, m.Code)
	}
	return nil
}

func (c *codeCatcher) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.codes) == 0 {
		return ""
	}
	return c.codes[len(c.codes)-1]
}

func TestAdminMigrate(t *testing.T) {
	target := pgtest.Database(t, "migr")
	src := newMigrateSource(t)
	ctx := context.Background()

	code, out, stderr := ts(t, "admin", "migrate", "--from", src.dir, "--to", target)
	if code != 0 || !strings.Contains(stderr, "audit log intact on the database") {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, stderr)
	}
	copied := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c struct {
			Bucket string
			Keys   int
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		copied[c.Bucket] = c.Keys
	}
	for _, b := range []string{"profiles", "clients", "officers", "sessions", "codes", "sigreq", "sigreq_doc", "maintenance", "audit", "audit_heads", "audit_tip", "settings"} {
		if copied[b] == 0 {
			t.Errorf("bucket %s: %d keys copied (%v)", b, copied[b], copied)
		}
	}

	// the same records, read from PostgreSQL through the typed store and the profile service
	pg, err := postgres.Open(ctx, target, postgres.Options{ChainKeyFile: filepath.Join(src.dir, audit.ChainKeyFileName)})
	if err != nil {
		t.Fatalf("opening the copy as a node does: %v", err)
	}
	secret, err := profile.LoadOrCreateSecret(filepath.Join(src.dir, profile.SecretFileName), nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := profile.New(pg, discardSender{}, profile.Options{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	// the secret's fingerprint came along: a node with another secret is refused on the copy too
	if _, err := profile.New(pg, discardSender{}, profile.Options{Secret: []byte("another machine's secret, 32 bytes or more")}); !errors.Is(err, profile.ErrSecretMismatch) {
		t.Errorf("another secret on the copy: %v, want ErrSecretMismatch", err)
	}
	if _, err := ps.Login(ctx, src.login, "Haslo-Zofii-2026!"); err != nil {
		t.Errorf("the holder cannot log in on the copy: %v", err)
	}
	if cl, err := ps.Client(ctx, src.clientID); err != nil || cl.Name != "e-recepta" {
		t.Errorf("client on the copy: %+v %v", cl, err)
	}
	if o, err := ps.Officer(ctx, src.officerID); err != nil || o.Login != "urzednik1" {
		t.Errorf("officer on the copy: %+v %v", o, err)
	}
	if r, err := pg.GetSigningRequestForHolder(ctx, src.requestID); err != nil || string(r.Document) != "<recepta>migracja</recepta>" || r.ProfileID != src.profileID {
		t.Errorf("signing request on the copy: %+v %v", r, err)
	}
	if ws, err := pg.MaintenanceWindows(ctx, time.Now()); err != nil || len(ws) != 1 || ws[0].Message != "przeprowadzka" {
		t.Errorf("maintenance on the copy: %+v %v", ws, err)
	}
	rep, err := audit.VerifyStore(ctx, pg, audit.VerifyOptions{SealInterval: time.Minute, Now: time.Now()})
	if err != nil || rep.Keyed == 0 || rep.Seals != 1 {
		t.Errorf("audit verify on the copy: %+v %v", rep, err)
	}
	// a new record on the copy continues the chain under the same key (once chained: PostgreSQL queues events, and
	// the login above queued one too)
	if err := pg.AppendAudit(ctx, audit.Event{Time: time.Now(), Kind: "test.after-migrate", Actor: "admin", Subject: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.ChainAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if rep2, err := audit.VerifyStore(ctx, pg, audit.VerifyOptions{}); err != nil || rep2.Records != rep.Records+rep.Pending+1 || rep2.Pending != 0 {
		t.Errorf("audit verify after a new record: %+v %v", rep2, err)
	}
	pg.Close()

	// a second migrate into the same database is refused, and changes nothing
	code, _, stderr = ts(t, "admin", "migrate", "--from", src.dir, "--to", target)
	if code != exitFailed || !strings.Contains(stderr, "already holds trustsign records") {
		t.Fatalf("second migrate: exit %d %s", code, stderr)
	}
}

func TestAdminMigrateRefuses(t *testing.T) {
	target := pgtest.Database(t, "migr")
	src := newMigrateSource(t)
	// a running server holds the store (openDomain is what serve opens)
	d, err := openDomain(src.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := ts(t, "admin", "migrate", "--from", src.dir, "--to", target)
	d.db.Close()
	if code != exitNoInput || !strings.Contains(stderr, "in use by a running server") {
		t.Fatalf("migrate of a held store: exit %d %s", code, stderr)
	}
	noKey := t.TempDir()
	copyFile(t, filepath.Join(src.dir, bbolt.FileName), filepath.Join(noKey, bbolt.FileName))
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no --from", []string{"--to", target}, exitUsage, "--from"},
		{"not a postgres URL", []string{"--from", src.dir, "--to", "mysql://x"}, exitUsage, "postgres://"},
		{"no store", []string{"--from", t.TempDir(), "--to", target}, exitNoInput, "no trustsign store"},
		{"no chain key", []string{"--from", noKey, "--to", target}, exitNoInput, "audit chain key"},
		{"an argument", []string{"--from", src.dir, "--to", target, "extra"}, exitUsage, "no arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := ts(t, append([]string{"admin", "migrate"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q", code, tc.code, stderr)
			}
		})
	}
	// another migrate holds the database's migrate lock
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = ts(t, "admin", "migrate", "--from", src.dir, "--to", target)
	conn.Close(ctx)
	if code != exitFailed || !strings.Contains(stderr, "another 'trustsign admin migrate'") {
		t.Fatalf("migrate during another: exit %d %s", code, stderr)
	}
	// nothing reached the database: a migrate now succeeds
	if code, _, stderr := ts(t, "admin", "migrate", "--from", src.dir, "--to", target); code != 0 {
		t.Fatalf("migrate after the refusals: exit %d %s", code, stderr)
	}
}

// TestAdminMigrateRefusesABrokenLog: a source whose audit log was edited is not copied.
func TestAdminMigrateRefusesABrokenLog(t *testing.T) {
	target := pgtest.Database(t, "migr")
	src := newMigrateSource(t)
	db, err := bbolt.OpenDir(src.dir, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Backend().Update(context.Background(), func(kv store.KVTx) error {
		rec, err := kv.Get("audit", audit.SeqKey(2))
		if err != nil {
			return err
		}
		edited := strings.Replace(string(rec), `"actor":"`, `"actor":"x`, 1)
		if edited == string(rec) {
			t.Fatalf("record 2 has no actor: %s", rec)
		}
		return kv.Put("audit", audit.SeqKey(2), []byte(edited))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, _, stderr := ts(t, "admin", "migrate", "--from", src.dir, "--to", target)
	if code != exitFailed || !strings.Contains(stderr, "does not verify, nothing copied") {
		t.Fatalf("migrate of a broken log: exit %d %s", code, stderr)
	}
}

// TestAdminMigrateFigures measures a migration of TRUSTSIGN_MIGRATE_REQUESTS signing requests (each with its
// document and an audit record); skipped unless it is set.
func TestAdminMigrateFigures(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TRUSTSIGN_MIGRATE_REQUESTS"))
	if n <= 0 {
		t.Skip("TRUSTSIGN_MIGRATE_REQUESTS not set")
	}
	target := pgtest.Database(t, "migr")
	dir := t.TempDir()
	db, err := bbolt.OpenDir(dir, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().UTC()
	doc := []byte(strings.Repeat("<recepta/>", 200))
	for i := 0; i < n; i += 500 {
		if err := db.Update(ctx, func(tx *store.Tx) error {
			for j := i; j < min(i+500, n); j++ {
				id := fmt.Sprintf("req-%08d", j)
				r := store.SigningRequest{ID: id, ClientID: "c1", Status: store.RequestPending, FileName: "r.xml", Format: "xades",
					Document: doc, Created: now, Expires: now.Add(time.Hour)}
				if err := tx.CreateSigningRequest(r); err != nil {
					return err
				}
				if err := tx.Audit(audit.Event{Time: now, Kind: "signing.request.create", Actor: "client:c1", Subject: id}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	start := time.Now()
	code, _, stderr := ts(t, "admin", "migrate", "--from", dir, "--to", target)
	if code != 0 {
		t.Fatalf("migrate: exit %d %s", code, stderr)
	}
	t.Logf("%d requests: %s in %s", n, strings.TrimSpace(stderr), time.Since(start).Round(time.Millisecond))
}

// TestAdminMigrateWhileServing: `trustsign serve` running on the directory (a process of its own) holds the store;
// the built binary's migrate says so, exits 66 and writes nothing to the database; after the server stops it copies.
func TestAdminMigrateWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	target := pgtest.Database(t, "migr")
	src := newMigrateSource(t)
	bin := builtBinary(t)
	srv := startServer(t, bin, "--data", src.dir)
	code, out, stderr := tsBin(t, bin, "", "admin", "migrate", "--from", src.dir, "--to", target)
	if code != exitNoInput || !strings.Contains(stderr, "in use by a running server") || out != "" {
		t.Fatalf("migrate while serving: exit %d %q %q", code, out, stderr)
	}
	srv.stop(t)
	if code, _, stderr := tsBin(t, bin, "", "admin", "migrate", "--from", src.dir, "--to", target); code != 0 {
		t.Fatalf("migrate after the server stopped: exit %d %s", code, stderr)
	}
}
