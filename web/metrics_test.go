package web_test

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/web"
)

type recordedMetrics struct {
	mu                         sync.Mutex
	requests, signed, verified []string
}

func (m *recordedMetrics) Request(method, route string, status int, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests = append(m.requests, fmt.Sprintf("%s %s %d", method, route, status))
}

func (m *recordedMetrics) Signed(format string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.signed = append(m.signed, format)
}

func (m *recordedMetrics) Verified(format, indication string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.verified = append(m.verified, format+" "+indication)
}

// TestPageMetrics: the pages count their requests by route pattern (never the path with its ids) and the
// signatures confirmed on them.
func TestPageMetrics(t *testing.T) {
	e := newEnv(t)
	m := &recordedMetrics{}
	h, err := web.New(web.Config{Profiles: e.profiles, Signing: e.signing, VerifyPolicy: e.policy, Clock: e.clock,
		Metrics: m, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	e.holder("anna", "44051401359")
	req := e.submit(prescription, "recepta.xml")
	c := e.newClient()
	c.login("anna", holderPassword)
	c.get(req.SignURL)
	c.post(req.SignURL+"/code", nil)
	c.post(req.SignURL+"/confirm", url.Values{"code": {e.code("anna@example.test")}})

	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Equal(m.signed, []string{"xades"}) {
		t.Errorf("signatures counted: %v", m.signed)
	}
	for _, want := range []string{"GET /{$} 200", "POST /login 303", "GET /sign/{id} 200", "POST /sign/{id}/confirm 303"} {
		if !slices.Contains(m.requests, want) {
			t.Errorf("no %q among %v", want, m.requests)
		}
	}
	for _, r := range m.requests {
		if strings.Contains(r, req.ID) {
			t.Errorf("request counted by its path: %s", r)
		}
	}
}
