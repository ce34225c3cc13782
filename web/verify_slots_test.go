package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/web"
)

// TestAttackVerifyFormFloodGets429: the verify page shares the API's verification slots; beyond them (and their
// short queue) an upload gets 429 with Retry-After and a translated message, instead of parsing at once.
func TestAttackVerifyFormFloodGets429(t *testing.T) {
	e := newEnv(t)
	slots := verify.NewSlots(verify.SlotsOptions{Slots: 1, MaxQueue: 1, Wait: time.Millisecond})
	h, err := web.New(web.Config{Profiles: e.profiles, Signing: e.signing, VerifyPolicy: e.policy, Clock: e.clock,
		Logger: slog.New(slog.DiscardHandler), VerifySlots: slots})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	defer e.srv.Close()
	c := e.newClient()
	upload := func() response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("csrf", c.csrf()) //nolint:errcheck
		fw, _ := mw.CreateFormFile("file", "dokument.xml")
		fw.Write([]byte("<a/>")) //nolint:errcheck
		mw.Close()
		req, _ := http.NewRequest("POST", c.base+"/verify", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return c.do(req)
	}
	_, release, err := slots.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := upload()
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" ||
		!strings.Contains(r.body, "Spróbuj ponownie za chwilę") {
		t.Errorf("while busy: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	release()
	if r := upload(); r.StatusCode != http.StatusOK {
		t.Errorf("after the slot is free: %d", r.StatusCode)
	}
}
