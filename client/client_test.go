package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
)

// recorder is a fake service that answers 200 {} and records what was asked.
type recorder struct {
	mu    sync.Mutex
	calls []string
	auth  []string
	types []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	r.mu.Lock()
	r.calls = append(r.calls, req.Method+" "+req.URL.EscapedPath())
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.types = append(r.types, req.Header.Get("Content-Type"))
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{}`))
}

// callEverything calls every method of the client once.
func callEverything(c *client.Client) {
	ctx := context.Background()
	c.Register(ctx, client.Application{})
	c.ConfirmContact(ctx, "p1", "123456")
	c.ResendContactCode(ctx, "p1")
	c.Login(ctx, "anna", "x")
	c.RequestPasswordReset(ctx, "anna")
	c.ResetPassword(ctx, "anna", "123456", "x")
	c.Logout(ctx)
	c.Me(ctx)
	c.ExtensionCode(ctx)
	c.Extend(ctx, "123456")
	c.Revoke(ctx)
	c.ConfirmWithIdP(ctx, "a.b.c")
	c.QualifiedConfirmationDocument(ctx, "A1", "s")
	c.ConfirmWithQualifiedSignature(ctx, "A1", []byte("<x/>"))
	c.OfficerApplication(ctx, "A1")
	c.OfficerConfirm(ctx, "A1", client.IdentityDocument{})
	c.OfficerConfirmVideo(ctx, "A1", client.IdentityDocument{})
	c.Submit(ctx, client.Submission{Document: []byte("<x/>")})
	c.SubmitBatch(ctx, client.BatchSubmission{})
	c.Status(ctx, "r1")
	c.SignedDocument(ctx, "r1")
	c.Lookup(ctx, "44051401359")
	c.Preview(ctx, "r1")
	c.RequestCode(ctx, "r1")
	c.Confirm(ctx, "r1", "123456")
	c.Cancel(ctx, "r1")
	c.Verify(ctx, []byte("<x/>"))
	c.Maintenance(ctx)
	c.Healthz(ctx)
	c.Readyz(ctx)
	c.OpenAPI(ctx)
}

// TestEveryRouteHasAMethod: each route of the service's OpenAPI description is called by some client method (a
// route added to the API without a client method fails here), and no method calls an undocumented route.
func TestEveryRouteHasAMethod(t *testing.T) {
	svc, err := clienttest.Start(clienttest.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	raw, err := svc.Client().OpenAPI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	type route struct {
		name string
		re   *regexp.Regexp
	}
	var routes []route
	for p, ops := range doc.Paths {
		pattern := regexp.MustCompile(`\\\{[^/]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`)
		for m := range ops {
			routes = append(routes, route{strings.ToUpper(m) + " " + p, regexp.MustCompile("^" + strings.ToUpper(m) + " " + pattern + "$")})
		}
	}
	// the operations routes outside the API proper that a client has no use for
	skip := map[string]bool{"GET /metrics": true}

	rec := &recorder{}
	fake := httptest.NewServer(rec)
	defer fake.Close()
	c, err := client.New(fake.URL, client.APIKey("tsk_test"))
	if err != nil {
		t.Fatal(err)
	}
	callEverything(c)
	covered := map[string]bool{}
	for _, call := range rec.calls {
		found := false
		for _, r := range routes {
			if r.re.MatchString(call) {
				covered[r.name], found = true, true
			}
		}
		if !found {
			t.Errorf("the client calls %s, which the OpenAPI description does not have", call)
		}
	}
	var missing []string
	for _, r := range routes {
		if !covered[r.name] && !skip[r.name] {
			missing = append(missing, r.name)
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no client method for %s", m)
	}
	for i, a := range rec.auth {
		if a != "Bearer tsk_test" {
			t.Errorf("%s sent Authorization %q", rec.calls[i], a)
		}
	}
}

func TestProblems(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		contentType string
		header      map[string]string
		body        string
		want        client.Problem
		problemJSON bool
	}{
		{"problem with Retry-After header", 429, "application/problem+json", map[string]string{"Retry-After": "17"},
			`{"type":"https://trustsign.dev/problems/too-many-requests","title":"Too many requests","status":429,"requestId":"r1"}`,
			client.Problem{Type: "https://trustsign.dev/problems/too-many-requests", Title: "Too many requests", Status: 429, RequestID: "r1", RetryAfter: 17}, true},
		{"retryAfter in the body wins", 503, "application/problem+json", map[string]string{"Retry-After": "5"},
			`{"type":"https://trustsign.dev/problems/maintenance","title":"Service under maintenance","status":503,"retryAfter":600}`,
			client.Problem{Type: "https://trustsign.dev/problems/maintenance", Title: "Service under maintenance", Status: 503, RetryAfter: 600}, true},
		{"a proxy's HTML page", 502, "text/html", nil, `<html>Bad Gateway</html>`,
			client.Problem{Type: "about:blank", Title: "Bad Gateway", Status: 502}, false},
		{"the status line wins over the body", 404, "application/problem+json", nil, `{"title":"Not found","status":200}`,
			client.Problem{Type: "about:blank", Title: "Not found", Status: 404}, true},
		{"a broken problem body", 500, "application/problem+json", nil, `{"title":`,
			client.Problem{Type: "about:blank", Title: "Internal Server Error", Status: 500}, true},
		{"an HTTP-date Retry-After is ignored", 429, "application/problem+json", map[string]string{"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, `{}`,
			client.Problem{Type: "about:blank", Title: "Too Many Requests", Status: 429}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.contentType)
				for k, v := range c.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
			}))
			defer srv.Close()
			cl, _ := client.New(srv.URL)
			_, err := cl.Me(context.Background())
			var p *client.Problem
			if !errors.As(err, &p) {
				t.Fatalf("error %v is not a *Problem", err)
			}
			got := *p
			got.ContentType = ""
			if got != c.want {
				t.Errorf("problem %+v, want %+v", got, c.want)
			}
			if p.IsProblemJSON() != c.problemJSON || client.StatusOf(err) != c.status || !strings.Contains(err.Error(), p.Title) {
				t.Errorf("IsProblemJSON %v, StatusOf %d, Error %q", p.IsProblemJSON(), client.StatusOf(err), err)
			}
		})
	}
	if client.StatusOf(errors.New("connection refused")) != 0 {
		t.Error("StatusOf of a non-problem")
	}
}

func TestNewAndPaths(t *testing.T) {
	for _, bad := range []string{"", "ftp://x", "/relative", "http://", "::"} {
		if _, err := client.New(bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	// a path prefix is kept, a trailing slash and a query dropped; ids are escaped as one path segment
	c, err := client.New(srv.URL+"/podpis/?x=1", client.SessionToken("tss_a"))
	if err != nil {
		t.Fatal(err)
	}
	c.Preview(context.Background(), "a/../b?c")
	c.With(client.APIKey("tsk_b")).Status(context.Background(), "r 1")
	want := []string{"GET /podpis/v1/signing-requests/a%2F..%2Fb%3Fc/preview", "GET /podpis/v1/signing-requests/r%201"}
	if strings.Join(rec.calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls %q, want %q", rec.calls, want)
	}
	if rec.auth[0] != "Bearer tss_a" || rec.auth[1] != "Bearer tsk_b" {
		t.Errorf("auth %q", rec.auth)
	}
	// bodies: JSON for JSON routes, the raw document for verification
	rec.calls, rec.types = nil, nil
	c.Confirm(context.Background(), "r1", "123456")
	c.Verify(context.Background(), []byte("%PDF-1.7"))
	c.Verify(context.Background(), []byte("<x/>"))
	if strings.Join(rec.types, "|") != "application/json|application/pdf|application/xml" {
		t.Errorf("content types %q", rec.types)
	}
}
