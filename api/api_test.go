package api

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func do(t *testing.T, h http.Handler, method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json (status %d, body %s)", ct, w.Code, w.Body)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != w.Code || p.Type == "" || p.Title == "" {
		t.Fatalf("problem %+v for status %d", p, w.Code)
	}
	return p
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := newTestServer(t, Config{})
	w := do(t, s, "GET", "/openapi.json", "", nil)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	routed := map[string]bool{}
	for _, r := range s.Routes() {
		routed[r[0]+" "+openapiPath(r[1])] = true
	}
	for r := range routed {
		if !documented[r] {
			t.Errorf("route %s is not in the OpenAPI description", r)
		}
	}
	for d := range documented {
		if !routed[d] {
			t.Errorf("OpenAPI describes %s, which is not routed", d)
		}
	}
}

func TestVerifyEndpoint(t *testing.T) {
	pki := testpki.New()
	signed, err := xades.Sign([]byte(`<recepta><lek>Amoxicillinum</lek></recepta>`), xades.SignOptions{Signer: pki.RSA.Key, Certificate: pki.RSA.Cert, Chain: pki.RSA.Chain})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fixedClock{time.Now()}
	s := newTestServer(t, Config{VerifyPolicy: &verify.Policy{Roots: []*x509.Certificate{pki.Root}}, Clock: clock,
		MaxDocumentBytes: 1 << 20, PublicVerifyPerMinute: 8})

	report := func(w *httptest.ResponseRecorder) verify.FileReport {
		t.Helper()
		if w.Code != 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		var r verify.FileReport
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := report(do(t, s, "POST", "/v1/verify", "application/xml", signed)); r.Indication != verify.TotalPassed {
		t.Errorf("raw body: %s", r.Indication)
	}
	tampered := bytes.Replace(signed, []byte("Amoxicillinum"), []byte("Morphinum"), 1)
	if r := report(do(t, s, "POST", "/v1/verify", "text/xml", tampered)); r.Indication != verify.TotalFailed {
		t.Errorf("tampered: %s (a bad verdict is still 200 with a report)", r.Indication)
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "recepta.xml")
	fw.Write(signed)
	mw.Close()
	if r := report(do(t, s, "POST", "/v1/verify", mw.FormDataContentType(), mp.Bytes())); r.Indication != verify.TotalPassed || r.File != "recepta.xml" {
		t.Errorf("multipart: %s %s", r.Indication, r.File)
	}

	if p := decodeProblem(t, do(t, s, "POST", "/v1/verify", "image/png", signed)); p.Status != 415 {
		t.Errorf("content type: %d", p.Status)
	}
	if p := decodeProblem(t, do(t, s, "POST", "/v1/verify", "application/xml", bytes.Repeat([]byte("x"), 2<<20))); p.Status != 413 {
		t.Errorf("size: %d", p.Status)
	}
	if p := decodeProblem(t, do(t, s, "POST", "/v1/verify", "application/xml", nil)); p.Status != 400 {
		t.Errorf("empty: %d", p.Status)
	}
	// the public rate limit: 8 per minute per address (6 used above), then 429 with Retry-After
	var last *httptest.ResponseRecorder
	for i := 0; i < 3; i++ {
		last = do(t, s, "POST", "/v1/verify", "application/xml", signed)
	}
	if p := decodeProblem(t, last); p.Status != 429 || last.Header().Get("Retry-After") == "" {
		t.Errorf("rate limit: %d, Retry-After %q", p.Status, last.Header().Get("Retry-After"))
	}
	clock.t = clock.t.Add(61 * time.Second)
	report(do(t, s, "POST", "/v1/verify", "application/xml", signed))
}

func TestProblemsAndPanics(t *testing.T) {
	s := newTestServer(t, Config{})
	s.engine.GET("/boom", func(*gin.Context) { panic("kaboom") })
	w := do(t, s, "GET", "/boom", "", nil)
	if p := decodeProblem(t, w); p.Status != 500 || strings.Contains(w.Body.String(), "kaboom") {
		t.Errorf("panic leaked or wrong status: %s", w.Body)
	}
	if p := decodeProblem(t, do(t, s, "GET", "/nowhere", "", nil)); p.Status != 404 || p.RequestID == "" {
		t.Errorf("404 problem %+v", p)
	}
	if p := decodeProblem(t, do(t, s, "DELETE", "/healthz", "", nil)); p.Status != 405 {
		t.Errorf("405 problem %+v", p)
	}
	// metrics are not public: without Config.MetricsToken they are not routed here at all
	if w := do(t, s, "GET", "/metrics", "", nil); w.Code != 404 || strings.Contains(w.Body.String(), "trustsign_http_requests_total") {
		t.Errorf("anonymous metrics: %d", w.Code)
	}
}
