package api

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Prometheus series the API exports.
type metrics struct {
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	signatures *prometheus.CounterVec
	codeFails  *prometheus.CounterVec
	verifies   *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trustsign_http_requests_total",
			Help: "HTTP requests by method, route and status."}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trustsign_http_request_duration_seconds",
			Help: "HTTP request latency by route.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}},
			[]string{"method", "route"}),
		signatures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trustsign_signatures_total",
			Help: "Signatures made, by format."}, []string{"format"}),
		codeFails: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trustsign_code_failures_total",
			Help: "Rejected one-time codes, by reason."}, []string{"reason"}),
		verifies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trustsign_verifications_total",
			Help: "Documents verified, by format and indication."}, []string{"format", "indication"}),
	}
	reg.MustRegister(m.requests, m.latency, m.signatures, m.codeFails, m.verifies)
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}
