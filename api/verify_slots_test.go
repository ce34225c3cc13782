package api

import (
	"context"
	"encoding/json"
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
