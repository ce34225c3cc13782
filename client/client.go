// Package client is a small typed Go client for trustsign's REST API: integrators submit documents for signing,
// fetch signed documents and look profiles up; profile holders log in, preview, ask for a code and confirm;
// officers confirm applications; anyone verifies documents and reads the operations endpoints.
//
// It depends on the standard library only. Every method takes a context first and makes exactly one HTTP request;
// nothing is retried. A request that the service refuses returns a *Problem (RFC 9457), so callers can
// errors.As the error and look at Status, Type or RetryAfter. Transport failures are returned as they are.
//
// It is not a server-side component: it holds no business rules, stores nothing and never logs.
package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client talks to one trustsign service with at most one credential: an integrator API key or a session token
// (both are sent as "Authorization: Bearer"). It is safe for concurrent use; With derives a client with other
// options (for example another credential) that shares the HTTP client.
type Client struct {
	base      *url.URL
	hc        *http.Client
	token     string
	userAgent string
	maxBody   int64
}

// Option configures a Client.
type Option func(*Client)

// APIKey authenticates as an integrator (a key printed by `trustsign admin client create`).
func APIKey(key string) Option { return func(c *Client) { c.token = key } }

// SessionToken authenticates as a profile holder or an officer (the token returned by Login).
func SessionToken(token string) Option { return func(c *Client) { c.token = token } }

// HTTPClient sets the HTTP client (default: a client with no timeout of its own; use contexts for deadlines).
func HTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// UserAgent sets the User-Agent header (default "trustsign-go-client/1").
func UserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// MaxResponseBytes bounds a response body the client reads (default 64 MiB); a longer one is an error.
func MaxResponseBytes(n int64) Option { return func(c *Client) { c.maxBody = n } }

// New returns a client for the service at baseURL (for example "https://podpis.example.gov.pl"; a path prefix is
// kept).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("client: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("client: the base URL must be an absolute http(s) URL")
	}
	u.RawQuery, u.Fragment, u.ForceQuery = "", "", false
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/"), strings.TrimRight(u.RawPath, "/")
	c := &Client{base: u, hc: http.DefaultClient, userAgent: "trustsign-go-client/1", maxBody: 64 << 20}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// With returns a copy of c with opts applied, for example c.With(client.SessionToken(tok)).
func (c *Client) With(opts ...Option) *Client {
	d := *c
	for _, o := range opts {
		o(&d)
	}
	return &d
}

// BaseURL is the service's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// request is one API call.
type request struct {
	method, path string
	// json is marshalled as the body (application/json); raw is sent as is with contentType.
	json        any
	raw         []byte
	contentType string
	accept      string
	// header holds extra request headers.
	header map[string]string
}

// response is a successful answer.
type response struct {
	status      int
	contentType string
	header      http.Header
	body        []byte
}

func (c *Client) do(ctx context.Context, r request) (*response, error) {
	// r.path has its variable segments escaped already (seg): keep them one segment each
	u := *c.base
	u.RawPath = c.base.EscapedPath() + r.path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	u.Path = p
	var body io.Reader
	ct := r.contentType
	switch {
	case r.json != nil:
		b, err := json.Marshal(r.json)
		if err != nil {
			return nil, fmt.Errorf("client: encoding the request: %w", err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	case r.raw != nil:
		body = bytes.NewReader(r.raw)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	accept := r.accept
	if accept == "" {
		accept = "application/json, application/problem+json"
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// read into a buffer the announced size fits, rather than growing one from 512 bytes (up to 1 MiB: what is
	// allocated before the bytes arrive stays small whatever a server announces)
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= min(c.maxBody, 1<<20) {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, c.maxBody+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("client: reading the response to %s %s: %w", r.method, r.path, err)
	}
	if int64(len(data)) > c.maxBody {
		return nil, fmt.Errorf("client: the response to %s %s exceeds %d bytes", r.method, r.path, c.maxBody)
	}
	if resp.StatusCode >= 300 {
		return nil, problemFrom(resp, data)
	}
	return &response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), header: resp.Header, body: data}, nil
}

// call makes a JSON request and decodes a JSON answer into out (when out is not nil).
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	r := request{method: method, path: path, json: in}
	if in == nil && method == http.MethodPost {
		r.raw, r.contentType = []byte("{}"), "application/json"
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	if out == nil || resp.status == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("client: decoding the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// ---- citizens ----

// Register applies for a trusted profile; a contact-confirmation code goes to the preferred channel.
func (c *Client) Register(ctx context.Context, a Application) (Registration, error) {
	var out Registration
	err := c.call(ctx, http.MethodPost, "/v1/profiles", a, &out)
	return out, err
}

// ConfirmContact confirms the contact channel of application profileID with the code sent to it (no session
// needed: the id and the code are the proof).
func (c *Client) ConfirmContact(ctx context.Context, profileID, code string) error {
	return c.call(ctx, http.MethodPost, "/v1/profiles/"+seg(profileID)+"/contact-confirmation", codeBody{code}, nil)
}

// ResendContactCode sends a new contact-confirmation code (the previous one stops working).
func (c *Client) ResendContactCode(ctx context.Context, profileID string) error {
	return c.call(ctx, http.MethodPost, "/v1/profiles/"+seg(profileID)+"/contact-confirmation/resend", nil, nil)
}

// Login opens a session for a holder or an officer. Use the token with c.With(SessionToken(s.Token)).
func (c *Client) Login(ctx context.Context, login, password string) (Session, error) {
	var out Session
	err := c.call(ctx, http.MethodPost, "/v1/sessions", loginBody{login, password}, &out)
	return out, err
}

// RequestPasswordReset asks for a password-reset code, sent to the confirmed contact channel of the profile with
// this login or PESEL (the answer is the same whether or not there is one).
func (c *Client) RequestPasswordReset(ctx context.Context, loginOrPESEL string) error {
	return c.call(ctx, http.MethodPost, "/v1/password-resets", passwordResetRequestBody{loginOrPESEL}, nil)
}

// ResetPassword sets a new password with the reset code; every session of the profile ends.
func (c *Client) ResetPassword(ctx context.Context, loginOrPESEL, code, newPassword string) error {
	return c.call(ctx, http.MethodPost, "/v1/password-resets/confirm", passwordResetBody{loginOrPESEL, code, newPassword}, nil)
}

// Logout ends the client's session.
func (c *Client) Logout(ctx context.Context) error {
	return c.call(ctx, http.MethodDelete, "/v1/sessions/current", nil, nil)
}

// Me returns the logged-in holder's profile.
func (c *Client) Me(ctx context.Context) (Profile, error) {
	var out Profile
	err := c.call(ctx, http.MethodGet, "/v1/profiles/me", nil, &out)
	return out, err
}

// ExtensionCode sends the holder a code to extend the profile.
func (c *Client) ExtensionCode(ctx context.Context) (CodeInfo, error) {
	var out CodeInfo
	err := c.call(ctx, http.MethodPost, "/v1/profiles/me/extension-code", nil, &out)
	return out, err
}

// Extend extends the holder's profile with the code.
func (c *Client) Extend(ctx context.Context, code string) (Profile, error) {
	var out Profile
	err := c.call(ctx, http.MethodPost, "/v1/profiles/me/extension", codeBody{code}, &out)
	return out, err
}

// Revoke revokes the holder's profile (final).
func (c *Client) Revoke(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/v1/profiles/me/revocation", nil, nil)
}

// ConfirmWithIdP confirms an application with a signed identity-provider assertion.
func (c *Client) ConfirmWithIdP(ctx context.Context, assertion string) (Profile, error) {
	var out Profile
	err := c.call(ctx, http.MethodPost, "/v1/profiles/confirmations/idp", struct {
		Assertion string `json:"assertion"`
	}{assertion}, &out)
	return out, err
}

// QualifiedConfirmationDocument returns the XML document to sign with a qualified certificate to confirm an
// application; secret is the registration's ApplicationSecret (the document holds the applicant's personal data).
func (c *Client) QualifiedConfirmationDocument(ctx context.Context, applicationNumber, secret string) ([]byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/profiles/confirmations/qualified/" + seg(applicationNumber), accept: "*/*",
		header: map[string]string{"Application-Secret": secret}})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}

// ConfirmWithQualifiedSignature confirms an application with its confirmation document signed (XAdES) with a
// qualified certificate.
func (c *Client) ConfirmWithQualifiedSignature(ctx context.Context, applicationNumber string, signed []byte) (Profile, error) {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/profiles/confirmations/qualified/" + seg(applicationNumber),
		raw: nonNil(signed), contentType: "application/xml"})
	if err != nil {
		return Profile{}, err
	}
	var out Profile
	return out, decode(resp, &out)
}

// ---- officers ----

// OfficerApplication returns an application's data, to compare with the identity document.
func (c *Client) OfficerApplication(ctx context.Context, applicationNumber string) (Profile, error) {
	var out Profile
	err := c.call(ctx, http.MethodGet, "/v1/officer/applications/"+seg(applicationNumber), nil, &out)
	return out, err
}

// OfficerConfirm confirms an application in person, the identity document checked.
func (c *Client) OfficerConfirm(ctx context.Context, applicationNumber string, doc IdentityDocument) (Profile, error) {
	var out Profile
	err := c.call(ctx, http.MethodPost, "/v1/officer/applications/"+seg(applicationNumber)+"/confirm", doc, &out)
	return out, err
}

// OfficerConfirmVideo confirms a temporary profile after a video call.
func (c *Client) OfficerConfirmVideo(ctx context.Context, applicationNumber string, doc IdentityDocument) (Profile, error) {
	var out Profile
	err := c.call(ctx, http.MethodPost, "/v1/officer/applications/"+seg(applicationNumber)+"/confirm-video", doc, &out)
	return out, err
}

// ---- integrators ----

// Submit submits one document for signing by a profile holder.
func (c *Client) Submit(ctx context.Context, s Submission) (SigningRequest, error) {
	var out SigningRequest
	err := c.call(ctx, http.MethodPost, "/v1/signing-requests", submissionJSON{Document: b64(s.Document), FileName: s.FileName,
		Format: string(s.Format), SuccessURL: s.SuccessURL, FailureURL: s.FailureURL, AdditionalInfo: s.AdditionalInfo, Webhook: s.Webhook, Level: s.Level}, &out)
	return out, err
}

// SubmitBatch submits several documents that the holder confirms with one code.
func (c *Client) SubmitBatch(ctx context.Context, b BatchSubmission) (Batch, error) {
	in := submissionJSON{Format: string(b.Format), SuccessURL: b.SuccessURL, FailureURL: b.FailureURL, AdditionalInfo: b.AdditionalInfo,
		Webhook: b.Webhook, Level: b.Level}
	for _, d := range b.Documents {
		in.Documents = append(in.Documents, submissionJSON{Document: b64(d.Document), FileName: d.FileName, Format: string(d.Format)})
	}
	if in.Documents == nil {
		in.Documents = []submissionJSON{}
	}
	var out Batch
	err := c.call(ctx, http.MethodPost, "/v1/signing-requests", in, &out)
	return out, err
}

// Status returns a signing request's status.
func (c *Client) Status(ctx context.Context, id string) (SigningRequest, error) {
	var out SigningRequest
	err := c.call(ctx, http.MethodGet, "/v1/signing-requests/"+seg(id), nil, &out)
	return out, err
}

// SignedDocument returns the signed document and its media type; a *Problem with Status 409 until the holder
// confirmed.
func (c *Client) SignedDocument(ctx context.Context, id string) ([]byte, string, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/signing-requests/" + seg(id) + "/document", accept: "*/*"})
	if err != nil {
		return nil, "", err
	}
	return resp.body, resp.contentType, nil
}

// Lookup looks a trusted profile up by PESEL (sent in the body, never in the URL); a *Problem with Status 404
// when there is none.
func (c *Client) Lookup(ctx context.Context, pesel string) (LookupResult, error) {
	var out LookupResult
	err := c.call(ctx, http.MethodPost, "/v1/profiles/lookup", struct {
		PESEL string `json:"pesel"`
	}{pesel}, &out)
	return out, err
}

// ---- holders signing ----

// Preview returns what will be signed (the request and the rest of its batch) with the verification phrase.
func (c *Client) Preview(ctx context.Context, id string) (Preview, error) {
	var out Preview
	err := c.call(ctx, http.MethodGet, "/v1/signing-requests/"+seg(id)+"/preview", nil, &out)
	return out, err
}

// RequestCode sends the holder a one-time code approving the request's document(s).
func (c *Client) RequestCode(ctx context.Context, id string) (CodeInfo, error) {
	var out CodeInfo
	err := c.call(ctx, http.MethodPost, "/v1/signing-requests/"+seg(id)+"/code", nil, &out)
	return out, err
}

// Confirm redeems the code: the document(s) are signed now, bound to the holder's profile.
func (c *Client) Confirm(ctx context.Context, id, code string) (SigningResult, error) {
	var out SigningResult
	err := c.call(ctx, http.MethodPost, "/v1/signing-requests/"+seg(id)+"/confirm", codeBody{code}, &out)
	return out, err
}

// Cancel refuses to sign the request (and its batch).
func (c *Client) Cancel(ctx context.Context, id string) (SigningResult, error) {
	var out SigningResult
	err := c.call(ctx, http.MethodPost, "/v1/signing-requests/"+seg(id)+"/cancel", nil, &out)
	return out, err
}

// ---- verification and operations ----

// Verify validates the signatures of an XML or PDF document sent as the raw body. The report comes back whatever
// the verdict; an error means no report could be made.
func (c *Client) Verify(ctx context.Context, document []byte) (VerificationReport, error) {
	ct := "application/xml"
	if bytes.HasPrefix(bytes.TrimLeft(document, "\x00\t\r\n "), []byte("%PDF-")) {
		ct = "application/pdf"
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/verify", raw: nonNil(document), contentType: ct})
	if err != nil {
		return VerificationReport{}, err
	}
	var out VerificationReport
	if err := decode(resp, &out); err != nil {
		return out, err
	}
	out.Raw = json.RawMessage(resp.body)
	return out, nil
}

// Maintenance lists the current and upcoming maintenance windows.
func (c *Client) Maintenance(ctx context.Context) (MaintenanceSchedule, error) {
	var out MaintenanceSchedule
	err := c.call(ctx, http.MethodGet, "/v1/maintenance", nil, &out)
	return out, err
}

// Healthz reports whether the service is alive (nil when it answers 200).
func (c *Client) Healthz(ctx context.Context) error {
	return c.call(ctx, http.MethodGet, "/healthz", nil, nil)
}

// Readyz reports whether the service can serve (nil when it answers 200).
func (c *Client) Readyz(ctx context.Context) error {
	return c.call(ctx, http.MethodGet, "/readyz", nil, nil)
}

// OpenAPI returns the service's OpenAPI description (JSON).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/openapi.json"})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}

func decode(resp *response, out any) error {
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("client: decoding the answer: %w", err)
	}
	return nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// nonNil makes an empty body explicit (a nil raw body means "no body").
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
