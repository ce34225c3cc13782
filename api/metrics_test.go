package api

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestAttackMetricsMethodCardinality: the request method is the client's to choose. Each new one must not become a
// series of its own (a client sending many made-up methods would grow the registry, and every scrape, without
// bound): methods outside HTTP's own are counted as "other".
func TestAttackMetricsMethodCardinality(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newTestServer(t, Config{Registry: reg})
	for i := range 50 {
		for _, path := range []string{"/nowhere", "/healthz"} {
			req := httptest.NewRequest("GET", path, nil)
			req.Method = fmt.Sprintf("M%03d", i)
			s.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
	do(t, s, "GET", "/healthz", "", nil)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]bool{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "trustsign_http_request") {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" {
					methods[l.GetValue()] = true
				}
			}
		}
	}
	if len(methods) != 2 || !methods["GET"] || !methods["other"] {
		t.Errorf("method labels %v, want GET and other", methods)
	}
}
