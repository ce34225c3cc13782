package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/verify"
)

const metricsToken = "metrics-token-0123456789abcdef"

// observedService runs the service as serve builds it (api, pages, metrics) on an httptest server, its JSON log
// (debug level included) kept in the returned buffer.
func observedService(t *testing.T, withToken bool, opts ...func(*serveConfig)) (*httptest.Server, *service, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	c := &serveConfig{addr: "127.0.0.1:0", data: dir, outbox: filepath.Join(dir, "outbox"), sealPhrase: pades.DefaultSealPhrase,
		maxDocument: 10 << 20, publicVerifyPerMinute: 60, shutdownTimeout: time.Second, auditSealEvery: time.Hour}
	if withToken {
		c.metricsTokenFile = filepath.Join(dir, "metrics.token")
		if err := os.WriteFile(c.metricsTokenFile, []byte(metricsToken+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var err error
		if c.metricsToken, err = readMetricsToken(c.metricsTokenFile); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range opts {
		o(c)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	seal, err := loadOrCreateSeal(c, logger)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := newService(c, seal, &verify.Policy{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	ts := httptest.NewServer(svc.handler)
	t.Cleanup(ts.Close)
	return ts, svc, logs
}

func get(t *testing.T, hc *http.Client, u, authorization string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestAttackAnonymousMetrics: /metrics on the public address tells an anonymous visitor nothing (routes, request
// counts, memory): only the metrics token's bearer, or (serve's default, --metrics-loopback) a direct connection
// from the host itself, gets them.
func TestAttackAnonymousMetrics(t *testing.T) {
	t.Run("loopback", func(t *testing.T) {
		ts, svc, _ := observedService(t, false, func(c *serveConfig) { c.metricsLoopback = true })
		if st, body := get(t, ts.Client(), ts.URL+"/metrics", ""); st != 200 || !strings.Contains(body, "# TYPE go_goroutines") {
			t.Errorf("GET /metrics from this host: %d %.200s", st, body)
		}
		// relayed by a proxy on this host, or from another host
		for _, h := range [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"Forwarded", "for=203.0.113.9"},
			{"X-Real-Ip", "203.0.113.9"}, {"Via", "1.1 proxy"}, {"X-Client-IP", "203.0.113.9"},
			{"True-Client-IP", "203.0.113.9"}, {"CF-Connecting-IP", "203.0.113.9"}} {
			req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
			req.Header.Set(h[0], h[1])
			res, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusNotFound || strings.Contains(string(b), "trustsign_") {
				t.Errorf("GET /metrics with %s: %d", h[0], res.StatusCode)
			}
		}
		for _, peer := range []string{"203.0.113.9:4000", "[2001:db8::1]:4000", "10.0.0.1:4000"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.RemoteAddr = peer
			svc.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "trustsign_") {
				t.Errorf("GET /metrics from %s: %d", peer, rec.Code)
			}
		}
	})
	t.Run("behind a proxy the loopback rule is off", func(t *testing.T) {
		// a same-host proxy that adds no forwarding header makes every visitor a loopback peer
		for _, set := range []func(*serveConfig){
			func(c *serveConfig) { c.metricsLoopback, c.publicURL = true, "https://pz.example.gov.pl" },
			func(c *serveConfig) { c.metricsLoopback, c.trustedProxies = true, []string{"127.0.0.1"} },
		} {
			ts, _, _ := observedService(t, false, set)
			if st, _ := get(t, ts.Client(), ts.URL+"/metrics", ""); st != http.StatusNotFound {
				t.Errorf("GET /metrics: %d, want 404", st)
			}
		}
		ts, _, _ := observedService(t, false, func(c *serveConfig) { c.metricsLoopback, c.publicURL = true, "http://localhost:8080" })
		if st, _ := get(t, ts.Client(), ts.URL+"/metrics", ""); st != http.StatusOK {
			t.Errorf("GET /metrics with a loopback --public-url: %d, want 200", st)
		}
	})
	t.Run("default", func(t *testing.T) {
		ts, svc, _ := observedService(t, false)
		for _, auth := range []string{"", "Bearer " + metricsToken} {
			if st, body := get(t, ts.Client(), ts.URL+"/metrics", auth); st != http.StatusNotFound || strings.Contains(body, "trustsign_") {
				t.Errorf("GET /metrics (%q) on the main address: %d %.80s", auth, st, body)
			}
		}
		// the --metrics-addr listener's handler serves them
		rec := httptest.NewRecorder()
		svc.metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "trustsign_http_requests_total") {
			t.Errorf("metrics listener: %d", rec.Code)
		}
	})
	t.Run("token", func(t *testing.T) {
		ts, _, _ := observedService(t, true)
		for _, auth := range []string{"", "Bearer ", "Bearer wrong-token-0123456789abcdef", "Basic " + metricsToken,
			"Bearer " + metricsToken[:len(metricsToken)-1], "Bearer " + metricsToken + "x"} {
			if st, body := get(t, ts.Client(), ts.URL+"/metrics", auth); st != http.StatusUnauthorized || strings.Contains(body, "trustsign_") {
				t.Errorf("GET /metrics with %q: %d %.80s", auth, st, body)
			}
		}
		if st, body := get(t, ts.Client(), ts.URL+"/metrics", "Bearer "+metricsToken); st != 200 || !strings.Contains(body, "trustsign_http_requests_total") {
			t.Errorf("GET /metrics with the token: %d", st)
		}
	})
}

// TestMetricsAndAccessLog: after a page view, a static file, and a verification through the API and through the
// auditor's page, the scrape has the API's and the pages' request series, verifications by format, indication and
// way in, and the Go runtime and process collectors; every request left one JSON line of one format (route
// pattern, request id, status, durationMs), the static file's at debug level.
func TestMetricsAndAccessLog(t *testing.T) {
	ts, _, logs := observedService(t, true)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/", "/static/app.css", "/sign/not-a-request-id-1234"} {
		get(t, hc, ts.URL+p, "")
	}
	doc := []byte(`<?xml version="1.0"?><wniosek><tresc>bez podpisu</tresc></wniosek>`)
	res, err := hc.Post(ts.URL+"/v1/verify", "application/xml", bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	apiID := res.Header.Get("X-Request-Id")
	u, _ := url.Parse(ts.URL)
	var csrf string
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "ts_csrf" {
			csrf = ck.Value
		}
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", "wniosek.xml")
	fw.Write(doc)
	mw.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/verify", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Request-Id", "page-verify-1")
	res, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Request-Id") != "page-verify-1" {
		t.Fatalf("page verification: %d, request id %q", res.StatusCode, res.Header.Get("X-Request-Id"))
	}

	_, scrape := get(t, hc, ts.URL+"/metrics", "Bearer "+metricsToken)
	for _, want := range []string{
		`trustsign_http_requests_total{method="POST",route="/v1/verify",status="200"} 1`,
		`trustsign_page_requests_total{method="GET",route="/{$}",status="200"} 1`,
		`trustsign_page_requests_total{method="GET",route="/static/",status="200"} 1`,
		`trustsign_page_requests_total{method="POST",route="/verify",status="200"} 1`,
		`trustsign_page_request_duration_seconds_bucket{method="GET",route="/sign/{id}",le="+Inf"}`,
		`trustsign_verifications_total{format="xades",indication="NO_SIGNATURE_FOUND",via="api"} 1`,
		`trustsign_verifications_total{format="xades",indication="NO_SIGNATURE_FOUND",via="web"} 1`,
		`trustsign_signatures_total{format="pades",via="web"} 0`, `trustsign_code_failures_total{reason="wrong"} 0`,
		"go_goroutines ", "go_memstats_heap_inuse_bytes ", "process_resident_memory_bytes ", "process_open_fds ",
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	if strings.Contains(scrape, "not-a-request-id") {
		t.Error("a path (not its pattern) reached the metrics")
	}

	type line struct {
		Level, Msg, RequestID, Method, Route string
		Status                               int
		DurationMs                           *float64
	}
	var lines []line
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var l line
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "request" {
			lines = append(lines, l)
		}
	}
	find := func(method, route string) line {
		for _, l := range lines {
			if l.Method == method && l.Route == route {
				return l
			}
		}
		t.Errorf("no access log line for %s %s in %s", method, route, logs.String())
		return line{}
	}
	for _, c := range []struct {
		method, route, level, id string
		status                   int
	}{
		{"GET", "/{$}", "INFO", "", 200},
		{"GET", "/static/", "DEBUG", "", 200},
		{"GET", "/sign/{id}", "INFO", "", 303},
		{"POST", "/v1/verify", "INFO", apiID, 200},
		{"POST", "/verify", "INFO", "page-verify-1", 200},
		{"GET", "/metrics", "INFO", "", 200},
	} {
		l := find(c.method, c.route)
		if l.Level != c.level || l.Status != c.status || l.RequestID == "" || l.DurationMs == nil || (c.id != "" && l.RequestID != c.id) {
			t.Errorf("%s %s logged as %+v", c.method, c.route, l)
		}
	}
	if strings.Contains(logs.String(), "not-a-request-id") {
		t.Error("a path (not its pattern) reached the log")
	}

	// a cross-site post is refused before the API or the pages see it, and still logged
	req, _ = http.NewRequest("POST", ts.URL+"/v1/verify", bytes.NewReader(doc))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("X-Request-Id", "cross-site-1")
	if res, err = hc.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.Contains(logs.String(), `"requestId":"cross-site-1","method":"POST","route":"cross-origin-refused","status":403`) || res.StatusCode != 403 {
		t.Errorf("cross-site post: %d, not logged as refused", res.StatusCode)
	}
}

// TestServeMetricsAddr: `serve --metrics-addr` serves the metrics on a listener of their own (unauthenticated,
// meant to stay private) while the main address keeps answering 404 for /metrics, and stops it with the server.
func TestServeMetricsAddr(t *testing.T) {
	dir := t.TempDir()
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"}, &out, &errs)
	}()
	addrs := map[string]string{}
	deadline := time.Now().Add(15 * time.Second)
	for len(addrs) < 2 && time.Now().Before(deadline) {
		for _, line := range strings.Split(errs.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Addr != "" {
				addrs[rec.Msg] = rec.Addr
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	mainAddr, metrics := addrs["trustsign serving"], addrs["metrics serving"]
	if mainAddr == "" || metrics == "" {
		t.Fatalf("server did not start both listeners: %s", errs.String())
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	if st, _ := get(t, hc, "http://"+mainAddr+"/metrics", ""); st != http.StatusNotFound {
		t.Errorf("GET /metrics on the main address: %d", st)
	}
	if st, body := get(t, hc, "http://"+metrics+"/metrics", ""); st != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("GET /metrics on the metrics address: %d", st)
	}
	if st, _ := get(t, hc, "http://"+metrics+"/", ""); st != http.StatusNotFound {
		t.Errorf("the metrics listener serves more than /metrics: %d", st)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after SIGTERM: %s", code, errs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
	if _, err := hc.Get("http://" + metrics + "/metrics"); err == nil {
		t.Error("the metrics listener outlived the server")
	}
}

// TestServeMetricsTokenFile: a missing token file is exit 66, a weak or malformed token a usage error (64).
func TestServeMetricsTokenFile(t *testing.T) {
	dir := t.TempDir()
	weak := filepath.Join(dir, "weak.token")
	two := filepath.Join(dir, "two.token")
	os.WriteFile(weak, []byte("secret\n"), 0o600)
	os.WriteFile(two, []byte("0123456789abcdef 0123456789abcdef\n"), 0o600)
	for file, want := range map[string]int{filepath.Join(dir, "missing"): exitNoInput, weak: exitUsage, two: exitUsage} {
		code, _, stderr := ts(t, "serve", "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0", "--metrics-token-file", file)
		if code != want || !strings.Contains(stderr, "metrics token file") {
			t.Errorf("%s: exit %d (%s), want %d", filepath.Base(file), code, strings.TrimSpace(stderr), want)
		}
	}
}
