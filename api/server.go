package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trustsign/trustsign/verify"
)

// Context keys.
const (
	ctxRequestID  = "requestID"
	ctxErrorCause = "errorCause"
)

// Clock is the source of time.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Config holds the API's dependencies and limits.
type Config struct {
	Logger *slog.Logger
	Clock  Clock
	// MaxDocumentBytes bounds uploaded documents (default 10 MiB, the real service's limit).
	MaxDocumentBytes int64
	// VerifyPolicy is the trust used by POST /v1/verify (configured roots plus the service's own seal chain).
	VerifyPolicy *verify.Policy
	// VerifySlots bounds the verifications running at once (shared with the web pages); nil: a limiter of its own
	// with verify.NewSlots' defaults.
	VerifySlots *verify.Slots
	// Ready reports whether the service can serve (the store answers, ...); nil means always ready. /readyz gives
	// it ReadyTimeout: a database that does not answer makes the service not ready, not the probe hang.
	Ready func(ctx context.Context) error
	// Registry receives the metrics; nil means a new registry.
	Registry *prometheus.Registry
	// MetricsToken, when set, serves GET /metrics to requests bearing it; empty leaves /metrics off this handler
	// (serve it on a listener of its own with MetricsHandler). The metrics are never public.
	MetricsToken string
	// MetricsLoopback also serves GET /metrics, without the token, to direct connections from a loopback address
	// that carry no forwarding header (Forwarded, X-Forwarded-For, X-Real-Ip): a scraper on the same host. Leave
	// it off behind a reverse proxy on the same host that adds no forwarding header.
	MetricsLoopback bool
	// PublicVerifyPerMinute rate-limits unauthenticated verification per client address (default 60).
	PublicVerifyPerMinute int
	// Profiles, Signing and Maintenance are the domain services; a nil one leaves its routes answering 401/503.
	Profiles    Profiles
	Signing     Signing
	Maintenance Maintenance
	// LookupsPerClient and LookupsPerAddress bound PESEL lookups per minute for one integrator key and for one client
	// address (defaults 60 and 120).
	LookupsPerClient, LookupsPerAddress int
	// SecureCookies marks the session cookie Secure (true in production; false only for plain-http development).
	SecureCookies bool
	// SharedLimits, when set, keeps the PESEL lookup limits and the anonymous verification limit in the store, one
	// transaction per counted request, so that every node serving one database counts against one limit; nil keeps
	// them in this process's memory (exact for a single node, and no store write per request). serve sets it on
	// PostgreSQL. The store's sweep (profile.Service.Sweep) removes ended windows.
	SharedLimits LimitStore
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed for the client
	// address (rate limits); none by default, so a client cannot pick its own address with that header.
	TrustedProxies []string
}

// Server is the HTTP API.
type Server struct {
	cfg         Config
	engine      *gin.Engine
	metrics     *metrics
	limits      limiter
	docs        []routeEntry
	openapiOnce sync.Once
	openapiJSON []byte
	wc          windowCache
}

// New builds the API handler.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.MaxDocumentBytes == 0 {
		cfg.MaxDocumentBytes = 10 << 20
	}
	if cfg.VerifyPolicy == nil {
		cfg.VerifyPolicy = &verify.Policy{}
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.PublicVerifyPerMinute == 0 {
		cfg.PublicVerifyPerMinute = 60
	}
	if cfg.VerifySlots == nil {
		cfg.VerifySlots = verify.NewSlots(verify.SlotsOptions{})
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: cfg, engine: gin.New(), metrics: newMetrics(cfg.Registry)}
	if cfg.SharedLimits != nil {
		s.limits = sharedLimiter{st: cfg.SharedLimits, clock: cfg.Clock}
	} else {
		s.limits = newMemoryLimiter(cfg.Clock)
	}
	e := s.engine
	e.HandleMethodNotAllowed = true
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("api: trusted proxies: %w", err)
	}
	e.ContextWithFallback = true
	e.Use(s.requestID, s.accessLog, s.recover, s.securityHeaders)
	e.NoRoute(func(c *gin.Context) { writeProblem(c, errNotFound) })
	e.NoMethod(func(c *gin.Context) {
		writeProblem(c, newProblem(405, "method-not-allowed", "Method not allowed", ""))
	})
	s.routes()
	return s, nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Routes lists the registered method and path pairs (for the OpenAPI agreement test).
func (s *Server) Routes() [][2]string {
	var out [][2]string
	for _, r := range s.engine.Routes() {
		out = append(out, [2]string{r.Method, r.Path})
	}
	return out
}

func (s *Server) routes() {
	ops := []string{"operations"}
	s.handle("GET", "/healthz", op{Summary: "Liveness", Responses: map[int]string{200: "Health"}, Tags: ops}, s.healthz)
	s.handle("GET", "/readyz", op{Summary: "Readiness", Responses: map[int]string{200: "Health", 503: "problem"}, Tags: ops}, s.readyz)
	if s.cfg.MetricsToken != "" || s.cfg.MetricsLoopback {
		s.handle("GET", "/metrics", op{Summary: "Prometheus metrics (with the metrics token, or from the host itself when configured so)", Auth: "metrics",
			Responses: map[int]string{200: "text"}, Tags: ops}, s.metricsAuth, gin.WrapH(s.MetricsHandler()))
	}
	s.handle("GET", "/openapi.json", op{Summary: "This OpenAPI description", Responses: map[int]string{200: ""}, Tags: ops}, s.openapi)
	s.handle("POST", "/v1/verify", op{Summary: "Verify the signatures of an XML or PDF document (offline rules, same report as trustsign verify --json)",
		Auth: "", Request: "document", Responses: map[int]string{200: "VerificationReport", 400: "problem", 413: "problem", 415: "problem", 429: "problem"},
		Tags: []string{"verification"}}, s.verifyDocument)
	s.maintenanceRoutes()
	if s.cfg.Profiles != nil {
		s.profileRoutes()
		s.lookupRoutes()
	}
	if s.cfg.Signing != nil && s.cfg.Profiles != nil {
		s.signingRoutes()
	}
}

func (s *Server) healthz(c *gin.Context) { c.JSON(200, gin.H{"status": "ok"}) }

// ReadyTimeout bounds Config.Ready in /readyz, so that a database that does not answer gives 503 rather than a probe
// that hangs (give the probe a longer time-out). A healthy database answers in milliseconds; the slack is for a busy
// connection pool.
const ReadyTimeout = 2 * time.Second

func (s *Server) readyz(c *gin.Context) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), ReadyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			// the cause goes to the log only (the probe's answer is public); the request line follows
			s.cfg.Logger.Warn("not ready", "requestId", c.GetString(ctxRequestID), "error", err.Error())
			writeProblem(c, newProblem(503, "not-ready", "Service not ready", ""))
			return
		}
	}
	c.JSON(200, gin.H{"status": "ready"})
}

func newID() string {
	var b [12]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if id == "" || len(id) > 64 || strings.ContainsAny(id, "\r\n\"") {
		id = newID()
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

// accessLog logs one JSON line per request, and counts it. Bodies and query strings are never logged (a PESEL
// must not reach the logs), only the route pattern.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	d := time.Since(start)
	s.metrics.observe(c.Request.Method, route, status, d)
	level := slog.LevelInfo
	if len(c.Errors) > 0 {
		level = slog.LevelError
	}
	ctx := c.Request.Context()
	if !s.cfg.Logger.Enabled(ctx, level) {
		return
	}
	// typed attributes: no value boxed, no slice of them on the heap
	var attrs [8]slog.Attr
	a := append(attrs[:0], slog.String("requestId", c.GetString(ctxRequestID)), slog.String("method", c.Request.Method),
		slog.String("route", route), slog.Int("status", status), slog.Float64("durationMs", float64(d.Microseconds())/1000),
		slog.Int("bytesOut", c.Writer.Size()))
	if cause := c.GetString(ctxErrorCause); cause != "" {
		a = append(a, slog.String("cause", cause))
	}
	if level == slog.LevelError {
		a = append(a, slog.String("error", c.Errors.String()))
	}
	s.cfg.Logger.LogAttrs(ctx, level, "request", a...)
}

// recover turns a panic into a 500 problem; the stack goes to the log only.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			s.cfg.Logger.Error("panic", "requestId", c.GetString(ctxRequestID), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			writeProblem(c, errInternal)
		}
	}()
	c.Next()
}

func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	c.Next()
}
