// Package api is trustsign's REST API: gin routes, handlers, authentication of integrators, holders and officers,
// and the single place where domain errors become HTTP statuses and RFC 9457 problem+json bodies.
//
// It holds no business rules: profiles, codes, signing formats and validation live in their own packages and are
// reached through small interfaces declared here.
package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Problem is an RFC 9457 problem details body. Title and Detail are fixed client-facing strings; details of the
// cause go to the log only.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// RequestID lets an operator find the request in the logs.
	RequestID string `json:"requestId,omitempty"`
	// RetryAfter (seconds) is also sent as the Retry-After header.
	RetryAfter int `json:"retryAfter,omitempty"`
}

const problemBase = "https://trustsign.dev/problems/"

// apiError is an error that already knows its problem.
type apiError struct {
	p     Problem
	cause error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.p.Title + ": " + e.cause.Error()
	}
	return e.p.Title
}
func (e *apiError) Unwrap() error { return e.cause }

// newProblem builds an error carrying a problem of the given status; slug names the problem type.
func newProblem(status int, slug, title, detail string) *apiError {
	return &apiError{p: Problem{Type: problemBase + slug, Title: title, Status: status, Detail: detail}}
}

// Common problems.
var (
	errBadRequest     = func(detail string) *apiError { return newProblem(400, "bad-request", "Bad request", detail) }
	errUnprocessable  = func(detail string) *apiError { return newProblem(422, "invalid-data", "Invalid data", detail) }
	errUnauthorized   = newProblem(401, "unauthorized", "Authentication required", "")
	errForbidden      = newProblem(403, "forbidden", "Not allowed", "")
	errNotFound       = newProblem(404, "not-found", "Not found", "")
	errTooLarge       = newProblem(413, "too-large", "Request body too large", "")
	errUnsupported    = newProblem(415, "unsupported-media-type", "Unsupported media type", "")
	errTooManyRequest = newProblem(429, "too-many-requests", "Too many requests", "")
	errInternal       = newProblem(500, "internal", "Internal error", "")
)

// problemFor maps any error to its problem: this is the one place where domain errors meet HTTP.
func problemFor(err error) Problem {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.p
	}
	for _, m := range domainErrors { // errors.go
		if errors.Is(err, m.err) {
			return m.p
		}
	}
	return errInternal.p
}

// writeProblem sends err as problem+json and aborts the request.
func writeProblem(c *gin.Context, err error) {
	p := problemFor(err)
	p.Instance = c.Request.URL.Path
	p.RequestID = c.GetString(ctxRequestID)
	if p.Status >= 500 {
		c.Error(err) //nolint:errcheck // logged by the access log middleware
	} else if err != nil {
		c.Set(ctxErrorCause, err.Error())
	}
	if p.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	c.Header("Content-Type", "application/problem+json")
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, p)
}

// statusText is a fallback title for statuses without a problem of their own.
func statusText(code int) string { return http.StatusText(code) }

// tooManyRequests answers 429 with Retry-After: retryAfter seconds, at least 1.
func tooManyRequests(c *gin.Context, retryAfter int) {
	p := *errTooManyRequest
	p.p.RetryAfter = max(1, retryAfter)
	writeProblem(c, &p)
}
