package api

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signing"
)

// Signing is what the API needs from the signing flow (*signing.Service).
type Signing interface {
	SubmitBatch(ctx context.Context, clientID string, subs []signing.Submission) ([]signing.Request, error)
	Get(ctx context.Context, clientID, id string) (signing.Request, error)
	SignedDocument(ctx context.Context, clientID, id string) ([]byte, string, error)
	Preview(ctx context.Context, profileID, id string) (signing.Preview, error)
	RequestCode(ctx context.Context, profileID, id string) (profile.CodeInfo, error)
	Confirm(ctx context.Context, profileID, id, code string) ([]signing.Request, error)
	Cancel(ctx context.Context, profileID, id string) (signing.Request, error)
}

type submissionJSON struct {
	Document       string           `json:"document"`
	FileName       string           `json:"fileName"`
	Format         string           `json:"format"`
	SuccessURL     string           `json:"successUrl"`
	FailureURL     string           `json:"failureUrl"`
	AdditionalInfo string           `json:"additionalInfo"`
	Webhook        bool             `json:"webhook"`
	Documents      []submissionJSON `json:"documents"`
	Level          string           `json:"level"`
}

type requestJSON struct {
	ID             string     `json:"id"`
	BatchID        string     `json:"batchId,omitempty"`
	Status         string     `json:"status"`
	SignURL        string     `json:"signUrl"`
	ExpiresAt      time.Time  `json:"expiresAt"`
	FileName       string     `json:"fileName"`
	Format         string     `json:"format"`
	ContentType    string     `json:"contentType,omitempty"`
	Size           int64      `json:"size"`
	AdditionalInfo string     `json:"additionalInfo,omitempty"`
	Created        time.Time  `json:"created"`
	SignedAt       *time.Time `json:"signedAt,omitempty"`
	FailureReason  string     `json:"failureReason,omitempty"`
	Phrase         string     `json:"verificationPhrase"`
	// Level is the baseline level of the seal; TimeStamps its time-stamps once signed.
	Level      string          `json:"level"`
	TimeStamps []timeStampJSON `json:"timestamps,omitempty"`
	// Seal names the seal that signed, once signed.
	Seal *sealJSON `json:"seal,omitempty"`
}

// sealJSON names a seal: its certificate's fingerprint and subject.
type sealJSON struct {
	Fingerprint string `json:"fingerprint"`
	Subject     string `json:"subject"`
}

// timeStampJSON is one time-stamp of a seal.
type timeStampJSON struct {
	Kind string    `json:"kind"`
	Time time.Time `json:"time"`
	TSA  string    `json:"tsa"`
}

func toRequestJSON(r signing.Request) requestJSON {
	out := requestJSON{ID: r.ID, BatchID: r.BatchID, Status: r.Status, SignURL: r.SignURL, ExpiresAt: r.Expires,
		FileName: r.FileName, Format: r.Format, ContentType: r.ContentType, Size: r.Size, AdditionalInfo: r.AdditionalInfo,
		Created: r.Created, SignedAt: r.SignedAt, FailureReason: r.FailureReason, Phrase: r.Phrase, Level: r.Level}
	for _, t := range r.TimeStamps {
		out.TimeStamps = append(out.TimeStamps, timeStampJSON{Kind: t.Kind, Time: t.Time, TSA: t.TSA})
	}
	if r.SealFingerprint != "" {
		out.Seal = &sealJSON{Fingerprint: r.SealFingerprint, Subject: r.SealSubject}
	}
	return out
}

func (s *Server) signingRoutes() {
	integ := []string{"integrators"}
	holder := []string{"signing"}
	maint := s.duringMaintenance
	s.handle("POST", "/v1/signing-requests", op{Summary: "Submit a document (or several, one code for all) for signing by a profile holder",
		Auth: "client:sign", Request: "SigningSubmission", Responses: map[int]string{201: "SigningRequest", 400: "problem", 401: "problem",
			403: "problem", 413: "problem", 415: "problem", 422: "problem", 503: "problem"}, Tags: integ},
		maint, s.client(profile.ScopeSign), s.submit)
	s.handle("GET", "/v1/signing-requests/:id", op{Summary: "A signing request's status", Auth: "client:sign",
		Responses: map[int]string{200: "SigningRequest", 404: "problem"}, Tags: integ}, s.client(profile.ScopeSign), s.requestStatus)
	s.handle("GET", "/v1/signing-requests/:id/document", op{Summary: "The signed document (409 until the holder confirmed)", Auth: "client:sign",
		Responses: map[int]string{200: "binary", 404: "problem", 409: "problem"}, Tags: integ}, s.client(profile.ScopeSign), s.signedDocument)
	s.handle("GET", "/v1/signing-requests/:id/preview", op{Summary: "What will be signed, with the verification phrase", Auth: "holder",
		Responses: map[int]string{200: "SigningPreview", 404: "problem", 503: "problem"}, Tags: holder}, maint, s.session(profile.RoleHolder), s.preview)
	s.handle("POST", "/v1/signing-requests/:id/code", op{Summary: "Send the holder a one-time code approving the document(s)", Auth: "holder",
		Responses: map[int]string{202: "CodeInfo", 404: "problem", 409: "problem", 429: "problem", 503: "problem"}, Tags: holder},
		maint, s.session(profile.RoleHolder), s.signingCode)
	s.handle("POST", "/v1/signing-requests/:id/confirm", op{Summary: "Confirm with the code: the document is signed now, bound to the profile",
		Auth: "holder", Request: "Code", Responses: map[int]string{200: "SigningResult", 404: "problem", 409: "problem", 422: "problem",
			429: "problem", 503: "problem"}, Tags: holder}, maint, s.session(profile.RoleHolder), s.confirmSigning)
	s.handle("POST", "/v1/signing-requests/:id/cancel", op{Summary: "Refuse to sign (the integrator learns it from the status)", Auth: "holder",
		Responses: map[int]string{200: "SigningResult", 404: "problem", 409: "problem"}, Tags: holder}, s.session(profile.RoleHolder), s.cancelSigning)
}

func (s *Server) submit(c *gin.Context) {
	// base64 inflates by 4/3; leave room for the JSON around it. The body limit bounds a batch as a whole: all its
	// documents together stay within the document limit.
	limit := s.cfg.MaxDocumentBytes*4/3 + 64<<10
	var b submissionJSON
	if err := bindJSON(c, limit, &b); err != nil {
		writeProblem(c, err)
		return
	}
	items := b.Documents
	if len(items) == 0 {
		items = []submissionJSON{b}
	} else if b.Document != "" {
		writeProblem(c, errUnprocessable("give either document or documents, not both"))
		return
	}
	var subs []signing.Submission
	for _, it := range items {
		doc, err := base64.StdEncoding.DecodeString(it.Document)
		if err != nil {
			writeProblem(c, errUnprocessable("document must be base64"))
			return
		}
		if int64(len(doc)) > s.cfg.MaxDocumentBytes {
			writeProblem(c, errTooLarge)
			return
		}
		f := it.Format
		if f == "" {
			f = b.Format
		}
		level := it.Level
		if level == "" {
			level = b.Level
		}
		subs = append(subs, signing.Submission{Document: doc, FileName: it.FileName, Format: f, SuccessURL: b.SuccessURL,
			FailureURL: b.FailureURL, AdditionalInfo: b.AdditionalInfo, Webhook: b.Webhook, Level: level})
	}
	reqs, err := s.cfg.Signing.SubmitBatch(c.Request.Context(), clientOf(c).ID, subs)
	if err != nil {
		writeProblem(c, signingProblem(err))
		return
	}
	out := toRequestJSON(reqs[0])
	if len(reqs) > 1 {
		var all []requestJSON
		var digests [][]byte
		for _, r := range reqs {
			all = append(all, toRequestJSON(r))
			digests = append(digests, r.Digest)
		}
		// the batch's phrase is the one the code message and the preview show (all documents together)
		c.JSON(http.StatusCreated, gin.H{"id": out.ID, "batchId": out.BatchID, "status": out.Status, "signUrl": out.SignURL,
			"expiresAt": out.ExpiresAt, "verificationPhrase": profile.VerificationPhrase(digests...), "requests": all})
		return
	}
	c.Header("Location", "/v1/signing-requests/"+out.ID)
	c.JSON(http.StatusCreated, out)
}

// sealRetryAfter is the Retry-After of a seal that cannot be made now (the key or the store is away).
const sealRetryAfter = 30

func signingProblem(err error) error {
	var fe *signing.FieldError
	if errors.As(err, &fe) {
		return errUnprocessable(fe.Field + ": " + fe.Reason)
	}
	if errors.Is(err, signing.ErrSealUnavailable) {
		p := &apiError{p: problemFor(signing.ErrSealUnavailable), cause: err}
		p.p.RetryAfter = sealRetryAfter
		return p
	}
	return profileProblem(err)
}

func (s *Server) requestStatus(c *gin.Context) {
	r, err := s.cfg.Signing.Get(c.Request.Context(), clientOf(c).ID, c.Param("id"))
	if err != nil {
		writeProblem(c, signingProblem(err))
		return
	}
	c.JSON(http.StatusOK, toRequestJSON(r))
}

func (s *Server) signedDocument(c *gin.Context) {
	data, ct, err := s.cfg.Signing.SignedDocument(c.Request.Context(), clientOf(c).ID, c.Param("id"))
	if err != nil {
		writeProblem(c, signingProblem(err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, ct, data)
}

type previewDocJSON struct {
	requestJSON
	Document string `json:"document"`
}

func (s *Server) preview(c *gin.Context) {
	p, err := s.cfg.Signing.Preview(c.Request.Context(), sessionOf(c).SubjectID, c.Param("id"))
	if err != nil {
		writeProblem(c, signingProblem(err))
		return
	}
	var docs []previewDocJSON
	for i, r := range p.Requests {
		docs = append(docs, previewDocJSON{requestJSON: toRequestJSON(r), Document: base64.StdEncoding.EncodeToString(p.Documents[i])})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"verificationPhrase": p.Phrase, "documents": docs})
}

func (s *Server) signingCode(c *gin.Context) {
	drainBody(c)
	ci, err := s.cfg.Signing.RequestCode(c.Request.Context(), sessionOf(c).SubjectID, c.Param("id"))
	if err != nil {
		writeProblem(c, signingProblem(err))
		return
	}
	c.JSON(http.StatusAccepted, codeInfoJSON{Expires: ci.Expires, Channel: string(ci.Channel), Phrase: ci.Phrase})
}

func (s *Server) confirmSigning(c *gin.Context) {
	var b codeBody
	if err := bindJSON(c, 4<<10, &b); err != nil {
		writeProblem(c, err)
		return
	}
	done, err := s.cfg.Signing.Confirm(c.Request.Context(), sessionOf(c).SubjectID, c.Param("id"), b.Code)
	if err != nil {
		s.countCodeFailure(err)
		writeProblem(c, signingProblem(err))
		return
	}
	var out []requestJSON
	redirect := ""
	for _, r := range done {
		out = append(out, toRequestJSON(r))
		s.metrics.signatures.WithLabelValues(r.Format).Inc()
		if redirect == "" {
			redirect = r.SuccessURL
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "signed", "redirectUrl": redirect, "requests": out})
}

func (s *Server) cancelSigning(c *gin.Context) {
	drainBody(c)
	r, err := s.cfg.Signing.Cancel(c.Request.Context(), sessionOf(c).SubjectID, c.Param("id"))
	if err != nil {
		writeProblem(c, signingProblem(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": r.Status, "redirectUrl": r.FailureURL, "requests": []requestJSON{toRequestJSON(r)}})
}

// drainBody reads (and ignores) a small body such as "{}".
func drainBody(c *gin.Context) {
	if c.Request.Body != nil {
		io.Copy(io.Discard, io.LimitReader(c.Request.Body, 4<<10)) //nolint:errcheck
	}
}

// readDocumentBody reads a raw document body within limit.
func readDocumentBody(c *gin.Context, limit int64) ([]byte, error) {
	ct := strings.ToLower(c.GetHeader("Content-Type"))
	if ct != "" && !strings.HasPrefix(ct, "application/xml") && !strings.HasPrefix(ct, "text/xml") && !strings.HasPrefix(ct, "application/octet-stream") {
		return nil, errUnsupported
	}
	data, err := io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
	if err != nil {
		return nil, bodyError(err)
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

func isErr(err, target error) bool { return errors.Is(err, target) }
