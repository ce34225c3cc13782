package api

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series of the service: the API's requests and the pages' (PageMetrics), signatures
// and verifications made through either ("via" is "api" or "web"), and the Go runtime and process collectors.
type metrics struct {
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	pageRequests *prometheus.CounterVec
	pageLatency  *prometheus.HistogramVec
	codeFails    *prometheus.CounterVec
	// signatures and verifies are the API's (via="api"), signaturesAll and verifiesAll take "via" as well
	signatures, signaturesAll *prometheus.CounterVec
	verifies, verifiesAll     *prometheus.CounterVec
	// series keeps the API's request series by seriesKey (observe)
	series sync.Map
}

var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trustsign_http_requests_total",
			Help: "API requests by method, route and status."}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trustsign_http_request_duration_seconds",
			Help: "API request latency by route.", Buckets: latencyBuckets}, []string{"method", "route"}),
		pageRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trustsign_page_requests_total",
			Help: "Web page requests by method, route pattern and status."}, []string{"method", "route", "status"}),
		pageLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trustsign_page_request_duration_seconds",
			Help: "Web page request latency by route pattern.", Buckets: latencyBuckets}, []string{"method", "route"}),
		signaturesAll: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trustsign_signatures_total",
			Help: "Signatures made, by format and by the way they were confirmed (api, web)."}, []string{"format", "via"}),
		codeFails: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trustsign_code_failures_total",
			Help: "Rejected one-time codes, by reason."}, []string{"reason"}),
		verifiesAll: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trustsign_verifications_total",
			Help: "Documents verified, by format, indication and the way they were submitted (api, web)."}, []string{"format", "indication", "via"}),
	}
	// known series start at zero, so rates and alerts work before the first event
	for _, via := range []string{"api", "web"} {
		for _, format := range []string{"xades", "pades"} {
			m.signaturesAll.WithLabelValues(format, via)
		}
	}
	for _, reason := range []string{"wrong", "expired", "killed", "throttled"} {
		m.codeFails.WithLabelValues(reason)
	}
	m.signatures = m.signaturesAll.MustCurryWith(prometheus.Labels{"via": "api"})
	m.verifies = m.verifiesAll.MustCurryWith(prometheus.Labels{"via": "api"})
	reg.MustRegister(m.requests, m.latency, m.pageRequests, m.pageLatency, m.signaturesAll, m.codeFails, m.verifiesAll)
	// the runtime's and the process's own series (memory, goroutines, GC, file descriptors, CPU); a registry
	// shared with another Server already has them
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			panic(err)
		}
	}
	return m
}

// observe counts one API request. The series of each method, route pattern and status are looked up once and kept
// (there are few: the methods are HTTP's own and "other", the routes the registered patterns and "unmatched").
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	k := seriesKey{methodLabel(method), route, status}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, requestSeries{m.requests.WithLabelValues(k.method, route, statusLabel(status)),
			m.latency.WithLabelValues(k.method, route)})
	}
	rs := v.(requestSeries)
	rs.count.Inc()
	rs.latency.Observe(d.Seconds())
}

type seriesKey struct {
	method, route string
	status        int
}

type requestSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// methodLabel is the method as a metrics label: HTTP's own methods as they are, any other "other". The method is
// the client's to choose, and each label value is a series kept for the life of the process.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// statusLabels are the labels of the statuses 100 to 599, made once.
var statusLabels = func() (out [500]string) {
	for i := range out {
		out[i] = strconv.Itoa(100 + i)
	}
	return out
}()

func statusLabel(code int) string {
	if code >= 100 && code < 600 {
		return statusLabels[code-100]
	}
	return strconv.Itoa(code)
}

// MetricsHandler serves the metrics in the Prometheus exposition format, without authentication: mount it on a
// listener of its own (serve --metrics-addr), not on the public address.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})
}

// metricsAuth admits the metrics token's bearer, and with MetricsLoopback a direct connection from this host.
// Anyone else gets 401 when a token is configured (a scraper may retry with it), 404 otherwise.
func (s *Server) metricsAuth(c *gin.Context) {
	tok := bearer(c)
	if s.cfg.MetricsToken != "" && tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.MetricsToken)) == 1 {
		c.Next()
		return
	}
	if s.cfg.MetricsLoopback && directLoopback(c.Request) {
		c.Next()
		return
	}
	if s.cfg.MetricsToken == "" {
		writeProblem(c, errNotFound)
		return
	}
	c.Header("WWW-Authenticate", `Bearer realm="trustsign-metrics"`)
	writeProblem(c, errUnauthorized)
}

// PageMetrics counts the web pages' requests, signatures and verifications into the API's registry (web.Metrics).
type PageMetrics struct{ m *metrics }

// PageMetrics returns the pages' counters, to give to web.Config.Metrics.
func (s *Server) PageMetrics() PageMetrics { return PageMetrics{s.metrics} }

// Request counts one page request by its route pattern (e.g. "/sign/{id}", never the path itself).
func (p PageMetrics) Request(method, route string, status int, d time.Duration) {
	method = methodLabel(method)
	p.m.pageRequests.WithLabelValues(method, route, statusLabel(status)).Inc()
	p.m.pageLatency.WithLabelValues(method, route).Observe(d.Seconds())
}

// Signed counts a signature confirmed on the pages.
func (p PageMetrics) Signed(format string) { p.m.signaturesAll.WithLabelValues(format, "web").Inc() }

// Verified counts a document verified on the pages.
func (p PageMetrics) Verified(format, indication string) {
	p.m.verifiesAll.WithLabelValues(format, indication, "web").Inc()
}

// directLoopback reports whether r came straight from this host: a loopback peer and no forwarding header (a
// request relayed by a proxy, even one on this host that says so, is not the host's own).
func directLoopback(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Host", "X-Forwarded-Proto",
		"X-Forwarded-Port", "X-Forwarded-Server", "X-Original-Forwarded-For", "X-Client-Ip", "True-Client-Ip",
		"Cf-Connecting-Ip", "Fastly-Client-Ip", "X-Cluster-Client-Ip", "Client-Ip", "X-Envoy-External-Address", "Via"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
