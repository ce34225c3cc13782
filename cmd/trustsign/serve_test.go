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
