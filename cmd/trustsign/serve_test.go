package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	dir := t.TempDir() + "/new-data"
	// creating commands may start a data directory; the others need an existing one
	if code, _, stderr := ts(t, "admin", "maintenance", "list", "--data", dir); code != exitNoInput {
		t.Fatalf("list on a missing directory: exit %d %s", code, stderr)
	}
	code, out, stderr := ts(t, "admin", "client", "create", "--data", dir, "--name", "e-recepta", "--scopes", "sign,lookup")
	if code != 0 {
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
