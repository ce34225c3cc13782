package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store/bbolt"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine to write and the test to read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestServeDefaultsAndGracefulShutdown starts `trustsign serve` on a fresh data directory, checks that it creates
// its store, outbox and development seal, answers health and the start page, and exits 0 on SIGTERM.
func TestServeDefaultsAndGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, &out, &errs) }()
	var addr string
	deadline := time.Now().Add(15 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		for _, line := range strings.Split(errs.String(), "\n") {
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "trustsign serving" {
				addr = rec.Addr
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("server did not start: %s", errs.String())
	}
	if !strings.Contains(errs.String(), "DEVELOPMENT seal") {
		t.Error("no warning about the development seal")
	}
	for _, path := range []string{"/healthz", "/readyz", "/", "/openapi.json", "/v1/maintenance"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after SIGTERM: %s", code, errs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
	if !strings.Contains(errs.String(), "shutting down") {
		t.Error("no shutdown log line")
	}
	// the store is released: an admin command can open it now
	if code, _, stderr := ts(t, "admin", "client", "create", "--data", dir, "--name", "after", "--scopes", "sign"); code != 0 {
		t.Errorf("admin after shutdown: %d %s", code, stderr)
	}
}

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	// a mistyped --data starts nothing: a missing directory is refused by every command, a directory without a
	// store by every command that does not create something
	for _, args := range [][]string{
		{"admin", "maintenance", "list", "--data", dir + "/mistyped"},
		{"admin", "client", "create", "--data", dir + "/mistyped", "--name", "x", "--scopes", "sign"},
		{"admin", "officer", "list", "--data", dir},
		{"admin", "client", "list", "--data", dir},
	} {
		if code, _, stderr := ts(t, args...); code != exitNoInput {
			t.Errorf("%v: exit %d %s", args[1:3], code, stderr)
		}
	}
	if _, err := os.Stat(dir + "/mistyped"); err == nil {
		t.Error("a mistyped --data was created")
	}
	if _, err := os.Stat(filepath.Join(dir, bbolt.FileName)); err == nil {
		t.Error("a list command started a store")
	}
	code, out, stderr := ts(t, "admin", "client", "create", "--data", dir, "--name", "e-recepta", "--scopes", "sign,lookup")
	if code != 0 || !strings.Contains(stderr, "started a new store") {
		t.Fatalf("client create: %d %s", code, stderr)
	}
	var cl struct {
		ID, Name, Key string
		Scopes        []string
	}
	if err := json.Unmarshal([]byte(out), &cl); err != nil || cl.ID == "" || len(cl.Key) < 40 || len(cl.Scopes) != 2 {
		t.Fatalf("client create printed %q", out)
	}
	for _, bad := range [][]string{
		{"admin", "client", "create", "--data", dir, "--name", "x", "--scopes", "sign,admin"},
		{"admin", "client", "create", "--data", dir, "--scopes", "sign"},
		{"admin", "maintenance", "add", "--data", dir, "--start", "2027-01-02T10:00:00Z", "--end", "2027-01-01T10:00:00Z"},
		{"admin", "profile", "invalidate", "--data", dir, "--id", "x"},
	} {
		if code, _, _ := ts(t, bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want 64", bad[1:4], code)
		}
	}
	if code, out, _ := ts(t, "admin", "maintenance", "add", "--data", dir, "--start", "2027-01-01T10:00:00Z", "--end", "2027-01-02T10:00:00Z", "--message", "prace"); code != 0 || !strings.Contains(out, `"mw-`) {
		t.Fatalf("maintenance add: %d %s", code, out)
	}
	if code, out, _ := ts(t, "admin", "maintenance", "list", "--data", dir); code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("maintenance list: %d %q", code, out)
	}
	if code, _, _ := ts(t, "audit", "verify", "--data", dir); code != 0 {
		t.Errorf("audit of the admin changes: exit %d", code)
	}
}

// runIn is run with standard input.
func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var o, e bytes.Buffer
	code := runWith(t.Context(), args, strings.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

func TestAdminOfficersAndClients(t *testing.T) {
	dir := t.TempDir()
	const pw, pw2 = "Urzednik-Test-2026!", "Nowe-Haslo-Urzednika-2026"
	// the acceptance scripts' form: the password twice on standard input
	if code, out, stderr := runIn(t, pw+"\n"+pw+"\n", "admin", "officer", "create", "--data", dir, "--login", "officer1"); code != 0 || !strings.Contains(out, `"login":"officer1"`) {
		t.Fatalf("officer create: %d %s %s", code, out, stderr)
	}
	code, out, _ := ts(t, "admin", "client", "create", "--data", dir, "--name", "Apteka", "--scopes", "sign")
	var cl struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(out), &cl) != nil {
		t.Fatalf("client create: %d %s", code, out)
	}
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		out, errOut string
	}{
		{"officer list", "", []string{"officer", "list"}, 0, `"disabled":false`, ""},
		{"passwords differ", pw2 + "\nother\n", []string{"officer", "reset-password", "officer1"}, exitUsage, "", "passwords differ"},
		{"password too weak", "short\n", []string{"officer", "reset-password", "officer1"}, exitUsage, "", "password"},
		{"reset unknown officer", pw2 + "\n", []string{"officer", "reset-password", "nobody"}, exitFailed, "", "no officer"},
		{"reset without login", pw2 + "\n", []string{"officer", "reset-password"}, exitUsage, "", "login"},
		{"reset", pw2 + "\n" + pw2 + "\n", []string{"officer", "reset-password", "officer1"}, 0, "", ""},
		{"disable unknown officer", "", []string{"officer", "disable", "nobody"}, exitFailed, "", "no officer"},
		{"disable officer", "", []string{"officer", "disable", "officer1"}, 0, "", ""},
		{"officer list shows disabled", "", []string{"officer", "list"}, 0, `"disabled":true`, ""},
		{"client list", "", []string{"client", "list"}, 0, `"name":"Apteka"`, ""},
		{"disable unknown client", "", []string{"client", "disable", "nosuch"}, exitFailed, "", "no client"},
		{"disable client", "", []string{"client", "disable", cl.ID}, 0, "", ""},
		{"client list shows disabled", "", []string{"client", "list"}, 0, `"disabled":true`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"admin"}, tc.args...), "--data", dir)
			code, out, stderr := runIn(t, tc.stdin, args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(stderr, tc.errOut) {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q", code, tc.code, out, stderr)
			}
		})
	}
	if code, _, stderr := ts(t, "audit", "verify", "--data", dir); code != 0 {
		t.Errorf("audit of the admin changes: exit %d %s", code, stderr)
	}
}
