package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/verify"
)

// TestAttackVerifyFloodGets429: verifications beyond the shared slots (and their short queue) are refused with 429
// problem+json and Retry-After, over real HTTP, instead of each parsing a large document at once.
func TestAttackVerifyFloodGets429(t *testing.T) {
	slots := verify.NewSlots(verify.SlotsOptions{Slots: 1, MaxQueue: 1, Wait: time.Millisecond})
	srv := httptest.NewServer(newTestServer(t, Config{VerifySlots: slots}))
	defer srv.Close()
	post := func() *http.Response {
		resp, err := http.Post(srv.URL+"/v1/verify", "application/xml", strings.NewReader("<a/>"))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// another verification (the web page's, say) holds the only slot
	_, release, err := slots.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp := post()
	var p Problem
	json.NewDecoder(resp.Body).Decode(&p) //nolint:errcheck
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Content-Type") != "application/problem+json" ||
		resp.Header.Get("Retry-After") == "" || p.Status != 429 {
		t.Errorf("while busy: %d %q Retry-After %q, %+v", resp.StatusCode, resp.Header.Get("Content-Type"),
			resp.Header.Get("Retry-After"), p)
	}
	release()
	if resp := post(); resp.StatusCode != http.StatusOK {
		t.Errorf("after the slot is free: %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
}

// TestAttackSlowVerifyUploadsBounded: bodies still being uploaded hold memory before any slot is taken; beyond
// twice the slots and the queue, a verification request is refused at once (429), its body unread.
func TestAttackSlowVerifyUploadsBounded(t *testing.T) {
	slots := verify.NewSlots(verify.SlotsOptions{Slots: 1, MaxQueue: 1, Wait: time.Millisecond})
	srv := httptest.NewServer(newTestServer(t, Config{VerifySlots: slots, PublicVerifyPerMinute: 1000}))
	defer srv.Close()
	var writers []*io.PipeWriter
	done := make(chan int, 8)
	for range 4 { // 2 × (1 slot + 1 queued): each admitted, sending its body slowly
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		go func() {
			resp, err := http.Post(srv.URL+"/v1/verify", "application/xml", pr)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		pw.Write([]byte("<a>")) //nolint:errcheck // the request is admitted once its first bytes arrive
	}
	var code int
	for range 50 { // the fifth is refused without its body being read, once the four are admitted
		resp, err := http.Post(srv.URL+"/v1/verify", "application/xml", strings.NewReader("<a/>"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if code = resp.StatusCode; code == http.StatusTooManyRequests {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code != http.StatusTooManyRequests {
		t.Errorf("a fifth upload beside four slow ones: %d, want 429", code)
	}
	for _, w := range writers {
		w.Write([]byte("</a>")) //nolint:errcheck
		w.Close()
	}
	for range writers {
		<-done
	}
	resp, err := http.Post(srv.URL+"/v1/verify", "application/xml", strings.NewReader("<a/>"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the uploads ended: %d", resp.StatusCode)
	}
}
