// Package web serves trustsign's pages for people: citizens register a trusted profile, confirm their contact,
// log in, look after their profile and sign the documents integrators send them to ("/sign/{id}"); a demo
// integrator (an application to a municipal office) walks the whole path; officers at a confirmation point find an
// application and confirm it against an identity document; auditors upload a signed file and read (or download)
// its verification report.
//
// Pages are rendered on the server with html/template in Polish and English, work without JavaScript (a small
// script only gives instant feedback on the registration form), and carry their assets embedded. Every state
// change is a POST guarded by http.CrossOriginProtection and a per-browser CSRF token; responses carry a strict
// Content-Security-Policy. Sessions are package profile's sessions, the token kept in an HttpOnly cookie.
//
// It is not the REST API (package api) and holds no domain rules: registration, codes and signing are packages
// profile and signing, verification is package verify. RenderReport is also used offline by
// `trustsign verify --report`.
package web

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/verify"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Clock tells the time.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Config holds the pages' dependencies.
type Config struct {
	// Profiles runs registration, sessions and profiles (required).
	Profiles *profile.Service
	// Signing runs integrators' signing requests (required for /sign and the demo).
	Signing *signing.Service
	// VerifyPolicy is the trust used by the auditor's page (configured roots plus the service's own seal chain).
	VerifyPolicy *verify.Policy
	Logger       *slog.Logger
	Clock        Clock
	// Secure marks cookies Secure (and gives them the __Host- prefix). Leave it true unless the service runs on
	// plain HTTP on loopback.
	Secure bool
	// DemoClientID is the client id under which the demo application form submits its documents; empty turns
	// the demo off.
	DemoClientID string
	// DemoKey authenticates the demo's case cookies (HMAC-SHA256). Empty: a random key made by New, so the
	// cookies of a demo case die with the process.
	DemoKey []byte
	// PublicURL is the service's address as browsers see it (e.g. "https://pz.example.gov.pl"); the demo uses it
	// to build its return addresses. Empty: taken from each request's Host.
	PublicURL string
	// VerifySlots bounds the verifications running at once (shared with the API); nil: a limiter of its own with
	// verify.NewSlots' defaults.
	VerifySlots *verify.Slots
	// MaxUploadBytes bounds uploaded files (default 10 MiB, the real service's document limit).
	MaxUploadBytes int64
	// Maintenance, when set, closes logging in and the session pages during the operator's windows.
	Maintenance Maintenance
	// Metrics, when set, counts page requests, signatures and verifications (api.Server.PageMetrics).
	Metrics Metrics
	// SharedReports, when set, keeps the verification page's reports (for their download link, 30 minutes) in the
	// store, so that the link works on every node serving one database; nil keeps them in this process's memory
	// (one node: the reports, which name signers, are never written to disk). serve sets it on PostgreSQL.
	SharedReports ReportStore
	// TrustedProxies are the reverse proxies (addresses or CIDRs) whose X-Forwarded-For gives the client address
	// for the per-address limits of registrations, code resends and login throttling (the API's list).
	TrustedProxies []string
}

// Metrics receives the pages' counters.
type Metrics interface {
	// Request counts a request by its route pattern ("/sign/{id}", never the path).
	Request(method, route string, status int, d time.Duration)
	Signed(format string)
	Verified(format, indication string)
}

type noMetrics struct{}

func (noMetrics) Request(string, string, int, time.Duration) {}
func (noMetrics) Signed(string)                              {}
func (noMetrics) Verified(string, string)                    {}

// server is the pages' handler.
type server struct {
	cfg     Config
	log     *slog.Logger
	pages   map[string]*pageTemplate
	reports reportKeeper
	wc      windowCache
	demoKey []byte
	proxies []netip.Prefix
}

// New returns the pages' handler. Mount it for every path that is not the API's.
func New(cfg Config) (http.Handler, error) {
	if cfg.Profiles == nil {
		return nil, errors.New("web: Config.Profiles is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.VerifyPolicy == nil {
		cfg.VerifyPolicy = &verify.Policy{}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.VerifySlots == nil {
		cfg.VerifySlots = verify.NewSlots(verify.SlotsOptions{})
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 10 << 20
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("web: PublicURL %q is not an absolute http(s) URL", cfg.PublicURL)
		}
		cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	proxies, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: cfg.Logger, pages: pages, demoKey: cfg.DemoKey, proxies: proxies}
	if cfg.SharedReports != nil {
		s.reports = storeReports{st: cfg.SharedReports, clock: cfg.Clock}
	} else {
		s.reports = newReportCache(cfg.Clock, reportsKept, reportTTL)
	}
	if len(s.demoKey) == 0 {
		s.demoKey = []byte(randomToken(32))
	}
	mux := http.NewServeMux()
	s.routes(mux)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOrigin))
	return s.recover(s.headers(cop.Handler(mux))), nil
}

func (s *server) routes(mux *http.ServeMux) {
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))
	mux.HandleFunc("GET /{$}", s.home)

	mux.HandleFunc("GET /register", s.registerForm)
	mux.HandleFunc("POST /register", s.post(s.register))
	mux.HandleFunc("GET /register/confirm", s.contactForm)
	mux.HandleFunc("POST /register/confirm", s.post(s.confirmContact))
	mux.HandleFunc("POST /register/resend", s.post(s.resendContact))

	mux.HandleFunc("GET /login", s.unlessMaintenance(s.loginForm))
	mux.HandleFunc("POST /login", s.post(s.unlessMaintenance(s.login)))
	mux.HandleFunc("POST /logout", s.post(s.logout))
	mux.HandleFunc("GET /password-reset", s.unlessMaintenance(s.recoveryForm))
	mux.HandleFunc("POST /password-reset", s.post(s.unlessMaintenance(s.recoveryRequest)))
	mux.HandleFunc("POST /password-reset/confirm", s.post(s.unlessMaintenance(s.recoveryConfirm)))

	mux.HandleFunc("GET /profile", s.holderOnly(s.profilePage))
	mux.HandleFunc("POST /profile/contact", s.post(s.holderOnly(s.profileContact)))
	mux.HandleFunc("POST /profile/contact/resend", s.post(s.holderOnly(s.profileContactResend)))
	mux.HandleFunc("POST /profile/extend/code", s.post(s.holderOnly(s.extendCode)))
	mux.HandleFunc("POST /profile/extend", s.post(s.holderOnly(s.extend)))
	mux.HandleFunc("POST /profile/revoke", s.post(s.holderOnly(s.revoke)))

	if s.cfg.Signing != nil {
		s.signingRoutes(mux)
	}

	mux.HandleFunc("GET /officer", s.officerOnly(s.officerPage))
	mux.HandleFunc("POST /officer/confirm", s.post(s.officerOnly(s.officerConfirm)))
	mux.HandleFunc("POST /officer/decline", s.post(s.officerOnly(s.officerDecline)))

	mux.HandleFunc("GET /verify", s.verifyForm)
	mux.HandleFunc("POST /verify", s.post(s.verifyUpload))
	mux.HandleFunc("GET /verify/reports/{id}", s.verifyReportDownload)

	mux.HandleFunc("/", s.notFound)
}

func (s *server) signingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /sign/{id}", s.holderOnly(s.signPage))
	mux.HandleFunc("GET /sign/{id}/documents/{doc}", s.holderOnly(s.signDocument))
	mux.HandleFunc("POST /sign/{id}/code", s.post(s.holderOnly(s.signCode)))
	mux.HandleFunc("POST /sign/{id}/confirm", s.post(s.holderOnly(s.signConfirm)))
	mux.HandleFunc("POST /sign/{id}/cancel", s.post(s.holderOnly(s.signCancel)))

	mux.HandleFunc("GET /demo", s.demoForm)
	mux.HandleFunc("POST /demo", s.post(s.unlessMaintenance(s.demoSubmit)))
	mux.HandleFunc("GET /demo/result", s.demoResult)
	mux.HandleFunc("GET /demo/result/{id}/download", s.demoDownload)
}

// Content-Security-Policy of the pages: no inline script or style, no framing of our pages, frames and objects
// only from this origin (the PDF viewer of the signing page).
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; " +
	"object-src 'self'; base-uri 'none'; frame-ancestors 'none'"

func (s *server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if s.cfg.Secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 || strings.ContainsAny(id, "\r\n\"") {
			id = randomToken(12)
		}
		h.Set("X-Request-Id", id)
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.logRequest(r, id, sw.status, time.Since(start))
	})
}

// logRequest writes the access log line, in the API's format (api.Server.accessLog), and counts the request. The
// route is the pattern that matched ("/sign/{id}"), never the path or the query: those hold request ids and
// application numbers, and no form data is ever logged. Static files are logged at debug level.
func (s *server) logRequest(r *http.Request, id string, status int, d time.Duration) {
	route := r.Pattern
	if _, p, ok := strings.Cut(route, " "); ok {
		route = p // "GET /sign/{id}" → "/sign/{id}"
	}
	if route == "" {
		route = "unmatched" // refused before routing (cross-origin)
	}
	s.cfg.Metrics.Request(r.Method, route, status, d)
	level := slog.LevelInfo
	if strings.HasPrefix(route, "/static/") {
		level = slog.LevelDebug
	}
	s.log.LogAttrs(r.Context(), level, "request", slog.String("requestId", id), slog.String("method", r.Method),
		slog.String("route", route), slog.Int("status", status), slog.Float64("durationMs", float64(d.Microseconds())/1000))
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *server) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("web panic", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.fail(w, r, http.StatusInternalServerError, "err.internal")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// crossOrigin answers a cross-site form post.
func (s *server) crossOrigin(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
	s.fail(w, r, http.StatusForbidden, "err.crossOrigin")
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, http.StatusNotFound, "err.notFound")
}

// internal logs an unexpected error (never shown) and answers 500; the store or the seal being out of reach for
// now (a database restart, a token away) is 503 with Retry-After, as on the API: try again, nothing is wrong with
// the request.
func (s *server) internal(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, signing.ErrSealUnavailable) {
		s.log.Warn("web: unavailable", "path", r.URL.Path, "error", err.Error())
		w.Header().Set("Retry-After", "5")
		s.fail(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	s.log.Error("web error", "path", r.URL.Path, "error", err.Error())
	s.fail(w, r, http.StatusInternalServerError, "err.internal")
}

// fail renders the error page with a fixed message.
func (s *server) fail(w http.ResponseWriter, r *http.Request, status int, msgKey string) {
	v := s.view(w, r, "title.error")
	v.Data = map[string]string{"Message": msgKey}
	s.render(w, status, "error", v)
}

func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
