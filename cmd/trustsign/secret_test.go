package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store/postgres/pgtest"
)

// TestAnotherProfileSecretRefused: a data directory whose profile.secret is not the one the store was first used
// with is refused, naming the file and saying to copy it from the first node: on bbolt (the file replaced), and on
// PostgreSQL (a second node's data directory with the same chain key but its own secret). The same secret works.
func TestAnotherProfileSecretRefused(t *testing.T) {
	refused := func(t *testing.T, dir string, args ...string) {
		t.Helper()
		code, out, stderr := ts(t, append([]string{"admin", "client", "list", "--data", dir}, args...)...)
		if code == 0 || !strings.Contains(stderr, filepath.Join(dir, profile.SecretFileName)) ||
			!strings.Contains(stderr, "copy "+profile.SecretFileName+" from the data directory of the first node") {
			t.Fatalf("another secret: exit %d\n%s\n%s", code, out, stderr)
		}
	}
	other := []byte(strings.Repeat("ab", 32) + "\n")
	t.Run("bbolt", func(t *testing.T) {
		dir := t.TempDir()
		if code, out, stderr := ts(t, "admin", "client", "create", "--data", dir, "--name", "e-recepta"); code != 0 {
			t.Fatalf("create: exit %d\n%s\n%s", code, out, stderr)
		}
		secretFile := filepath.Join(dir, profile.SecretFileName)
		first, err := os.ReadFile(secretFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(secretFile, other, 0o600); err != nil {
			t.Fatal(err)
		}
		refused(t, dir)
		if err := os.WriteFile(secretFile, first, 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, stderr := ts(t, "admin", "client", "list", "--data", dir); code != 0 || !strings.Contains(out, "e-recepta") {
			t.Fatalf("the first secret again: exit %d\n%s\n%s", code, out, stderr)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		db := pgtest.Database(t, "secret")
		first, second := t.TempDir(), t.TempDir()
		if code, out, stderr := ts(t, "admin", "client", "create", "--data", first, "--store", db, "--name", "e-recepta"); code != 0 {
			t.Fatalf("create: exit %d\n%s\n%s", code, out, stderr)
		}
		key, err := os.ReadFile(filepath.Join(first, audit.ChainKeyFileName))
		if err != nil {
			t.Fatal(err)
		}
		// the second machine got the chain key but made its own secret
		if err := os.WriteFile(filepath.Join(second, audit.ChainKeyFileName), key, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(second, profile.SecretFileName), other, 0o600); err != nil {
			t.Fatal(err)
		}
		refused(t, second, "--store", db)
		secret, err := os.ReadFile(filepath.Join(first, profile.SecretFileName))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(second, profile.SecretFileName), secret, 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, stderr := ts(t, "admin", "client", "list", "--data", second, "--store", db); code != 0 || !strings.Contains(out, "e-recepta") {
			t.Fatalf("the copied secret: exit %d\n%s\n%s", code, out, stderr)
		}
	})
}
