package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The lean transport against net/http's server: keep-alive reuse, a connection the server closed, a request
// cancelled while the server holds it, a response not read to its end.
func TestLeanTransport(t *testing.T) {
	var conns atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/close":
			w.Header().Set("Connection", "close")
		case "/hang":
			<-release
			return
		}
		w.Write(append([]byte(r.Method+" "+r.URL.Path+" "), body...)) //nolint:errcheck
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	defer close(release)
	tr := newLeanTransport(4)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	get := func(ctx context.Context, method, path, body string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			return "", err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	for i := range 5 {
		got, err := get(t.Context(), "POST", "/a", "x")
		if err != nil || got != "POST /a x" {
			t.Fatalf("request %d: %q, %v", i, got, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 requests one after another used %d connections, want 1 (kept alive)", n)
	}
	// the server closes this one after answering: the next request dials again
	if got, err := get(t.Context(), "GET", "/close", ""); err != nil || got != "GET /close " {
		t.Fatalf("close: %q, %v", got, err)
	}
	if got, err := get(t.Context(), "GET", "/b", ""); err != nil || got != "GET /b " {
		t.Fatalf("after close: %q, %v", got, err)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("connections %d, want 2", n)
	}
	// a kept-alive connection the server dropped while idle: the request goes again on a new one
	srv.CloseClientConnections()
	if got, err := get(t.Context(), "PUT", "/c", "again"); err != nil || got != "PUT /c again" {
		t.Fatalf("after the server dropped the connection: %q, %v", got, err)
	}
	// cancelled while the server holds the request
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := get(ctx, "GET", "/hang", ""); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v, want context.Canceled", err)
	}
	// a body closed before its end is not pooled (the rest would be read as the next response)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/d", strings.NewReader("0123456789"))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	io.ReadFull(resp.Body, buf) //nolint:errcheck
	resp.Body.Close()
	if got, err := get(t.Context(), "GET", "/e", ""); err != nil || got != "GET /e " {
		t.Fatalf("after a body closed early: %q, %v", got, err)
	}
	// https is refused, not sent in the clear
	if _, err := get(t.Context(), "GET", "/f", ""); err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequestWithContext(t.Context(), "GET", "https://127.0.0.1:1/", nil)
	if _, err := hc.Do(req); err == nil {
		t.Fatal("an https request went through the plain-HTTP transport")
	}
}
