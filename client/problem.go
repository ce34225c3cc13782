package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Problem is an error answer of the service: an RFC 9457 problem details body. Every method returns it (as an
// error) when the service answers with a status of 300 or more; use errors.As to read it.
type Problem struct {
	// Type is a URI naming the kind of problem, e.g. "https://trustsign.dev/problems/invalid-code".
	Type string `json:"type"`
	// Title is a fixed short description of the type.
	Title string `json:"title"`
	// Status is the HTTP status.
	Status int `json:"status"`
	// Detail is a fixed explanation of this occurrence, if any.
	Detail string `json:"detail,omitempty"`
	// Instance is the request path.
	Instance string `json:"instance,omitempty"`
	// RequestID finds the request in the service's logs.
	RequestID string `json:"requestId,omitempty"`
	// RetryAfter is how many seconds to wait before trying again (429, 503), from the body or the Retry-After
	// header.
	RetryAfter int `json:"retryAfter,omitempty"`
	// ContentType is the media type of the error answer (application/problem+json unless something in between
	// answered).
	ContentType string `json:"-"`
}

// Error implements error.
func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "trustsign: %d %s", p.Status, p.Title)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	if p.RequestID != "" {
		b.WriteString(" (request " + p.RequestID + ")")
	}
	return b.String()
}

// Slug is the last segment of Type, e.g. "invalid-code" ("" when Type is not set).
func (p *Problem) Slug() string {
	if i := strings.LastIndexByte(p.Type, '/'); i >= 0 {
		return p.Type[i+1:]
	}
	return p.Type
}

// Retry is RetryAfter as a duration.
func (p *Problem) Retry() time.Duration { return time.Duration(p.RetryAfter) * time.Second }

// IsProblemJSON reports whether the answer was application/problem+json (and not, say, an HTML error page of a
// proxy, which still becomes a *Problem with the status).
func (p *Problem) IsProblemJSON() bool {
	mt, _, _ := mime.ParseMediaType(p.ContentType)
	return mt == "application/problem+json"
}

// StatusOf returns the HTTP status of a *Problem in err's chain, or 0.
func StatusOf(err error) int {
	var p *Problem
	if errors.As(err, &p) {
		return p.Status
	}
	return 0
}

func problemFrom(resp *http.Response, body []byte) *Problem {
	p := &Problem{ContentType: resp.Header.Get("Content-Type")}
	mt, _, _ := mime.ParseMediaType(p.ContentType)
	if mt == "application/problem+json" || mt == "application/json" {
		_ = json.Unmarshal(body, p) // a broken body still gives a problem with the status
	}
	p.Status = resp.StatusCode // the status line wins over the body
	if p.Title == "" {
		p.Title = http.StatusText(resp.StatusCode)
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.RetryAfter == 0 {
		if n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && n > 0 {
			p.RetryAfter = n
		}
	}
	return p
}
