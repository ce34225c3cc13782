package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/tsa"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// writeTSAFiles writes the test TSA's key, certificate and the intermediate as PEM files.
func writeTSAFiles(t *testing.T, mode testpki.TSAMode) (key, cert, chain string) {
	t.Helper()
	p := testpki.New()
	id, err := p.TSAIdentity(mode)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kp, err := testpki.KeyPEM(id.Key)
	if err != nil {
		t.Fatal(err)
	}
	key, cert, chain = filepath.Join(dir, "tsa.key"), filepath.Join(dir, "tsa.pem"), filepath.Join(dir, "inter.pem")
	for f, b := range map[string][]byte{key: kp, cert: testpki.CertsPEM(id.Cert), chain: testpki.CertsPEM(p.Intermediate, p.Root)} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return key, cert, chain
}

func TestTSACommandServesTokens(t *testing.T) {
	key, cert, chain := writeTSAFiles(t, testpki.TSAGood)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runWith(ctx, []string{"tsa", "--key", key, "--cert", cert, "--chain", chain, "--addr", "127.0.0.1:0"},
			nil, &bytes.Buffer{}, &stderr)
	}()
	re := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/)`)
	var url string
	for i := 0; i < 200 && url == ""; i++ {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case rc := <-done:
			t.Fatalf("tsa exited %d: %s", rc, stderr.String())
		case <-time.After(25 * time.Millisecond):
		}
	}
	if url == "" {
		t.Fatalf("no URL logged: %s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "not for production") {
		t.Errorf("no production warning: %s", stderr.String())
	}
	p := testpki.New()
	d := sha256.Sum256([]byte("demo"))
	c := &tsa.Client{URLs: []string{url}, Roots: p.Roots(), Intermediates: p.Intermediates()}
	if _, err := c.Stamp(context.Background(), d[:]); err != nil {
		t.Fatalf("Stamp: %v", err)
	}
	cancel()
	if rc := <-done; rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr.String())
	}
}

func TestTSACommandRefusesBadInput(t *testing.T) {
	key, cert, _ := writeTSAFiles(t, testpki.TSAGood)
	otherKey, _, _ := writeTSAFiles(t, testpki.TSANoEKU)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no key", []string{"tsa", "--cert", cert}, exitUsage},
		{"bad policy", []string{"tsa", "--key", key, "--cert", cert, "--policy", "x.y"}, exitUsage},
		{"missing file", []string{"tsa", "--key", key + ".nope", "--cert", cert}, exitNoInput},
		{"key mismatch", []string{"tsa", "--key", otherKey, "--cert", cert}, exitDataErr},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if rc := runWith(context.Background(), tc.args, nil, &bytes.Buffer{}, &stderr); rc != tc.want {
				t.Fatalf("exit %d, want %d: %s", rc, tc.want, stderr.String())
			}
		})
	}
}
