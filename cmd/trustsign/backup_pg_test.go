package main

import (
	"bufio"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store/postgres/pgtest"
)

// pgTool finds a PostgreSQL client program (pg_dump, pg_restore): on the PATH, or beside the server's programs.
func pgTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if ps, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name); len(ps) > 0 {
		return ps[len(ps)-1]
	}
	t.Skipf("%s not found (Debian: apt-get install postgresql-client)", name)
	return ""
}

// TestPostgresBackupRestore follows docs/operations.md, "Backup and restore", for PostgreSQL: pg_dump of the
// database while a node serves and signs, pg_restore into a new database, and a new data directory holding only
// copies of the two key files (audit-chain.key, profile.secret). audit verify --offline passes on the restored
// database, whose log is the original's up to the dump record for record; a node started on it serves the
// signatures made before the dump to the same integrator key, the holders sign again with their sessions, and the
// chain still verifies.
func TestPostgresBackupRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	pgDump, pgRestore := pgTool(t, "pg_dump"), pgTool(t, "pg_restore")
	r := newFaultRig(t, pgtest.Database(t, "backup"), 1, 2)
	var signed []flowOutcome
	for range 2 {
		signed = append(signed, r.flowsEach(t)...)
	}
	dump := filepath.Join(t.TempDir(), "trustsign.dump")
	if out, err := exec.Command(pgDump, "--format=custom", "--file="+dump, r.store).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v %s", err, out)
	}
	r.nodes[0].stop(t)
	_, original, _ := tsBin(t, r.bin, "", "audit", "export", "--data", r.data, "--store", r.store)

	restored := pgtest.Database(t, "restored")
	if out, err := exec.Command(pgRestore, "--no-owner", "--dbname="+restored, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v %s", err, out)
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{audit.ChainKeyFileName, profile.SecretFileName} {
		b, err := os.ReadFile(filepath.Join(r.data, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := tsBin(t, r.bin, "", "audit", "verify", "--data", data, "--store", restored, "--offline")
	if code != 0 || !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit verify of the restored database: %d %s %s", code, out, errs)
	}
	_, copied, _ := tsBin(t, r.bin, "", "audit", "export", "--data", data, "--store", restored)
	if lines(copied) < 10 || !strings.HasPrefix(original, copied) {
		t.Errorf("the restored log (%d records) is not the original's (%d records) up to the dump", lines(copied), lines(original))
	}

	r.store, r.data = restored, data
	r.balance([]*server{r.startNode()})
	integ := r.direct(r.nodes[0].base, client.APIKey(r.key))
	for _, o := range signed {
		if doc, _, err := integ.SignedDocument(t.Context(), o.id); err != nil || !strings.Contains(string(doc), o.marker) {
			t.Errorf("signed before the dump, fetched from the restored database: %s %v", o.id, err)
		}
	}
	r.checkNothingLost(t, append(signed, r.flowsEach(t)...), r.nodes[0].base)
	if u, _ := url.Parse(restored); !strings.Contains(r.nodes[0].logs.String(), u.Path) {
		t.Error("the node did not name the restored database")
	}
}

// lines counts the lines of s.
func lines(s string) int {
	n := 0
	for sc := bufio.NewScanner(strings.NewReader(s)); sc.Scan(); {
		n++
	}
	return n
}
