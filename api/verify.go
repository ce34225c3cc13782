package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/verify"
)

// verifyDocument is POST /v1/verify: the document as the raw body (application/xml, text/xml, application/pdf,
// application/octet-stream) or as multipart/form-data (field "file", optional "detached" files). It answers 200
// with the same JSON report as `trustsign verify --json`, whatever the verdict; 4xx only when no report can be made.
func (s *Server) verifyDocument(c *gin.Context) {
	if !s.verifyAllowed(c) {
		return
	}
	// admitted before the body is read: bodies waiting for a slot are bounded too
	admitted, err := s.cfg.VerifySlots.Admit()
	if err != nil {
		c.Header("Connection", "close") // the unread body is not drained
		tooManyRequests(c, int(s.cfg.VerifySlots.RetryAfter().Seconds()))
		return
	}
	defer admitted()
	limit := s.cfg.MaxDocumentBytes
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit*2+1<<20)
	ct, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil && c.GetHeader("Content-Type") != "" {
		writeProblem(c, errUnsupported)
		return
	}
	name := "document"
	var data []byte
	detached := map[string][]byte{}
	switch ct {
	case "multipart/form-data":
		if params["boundary"] == "" {
			writeProblem(c, errBadRequest("multipart body without a boundary"))
			return
		}
		form, err := c.MultipartForm()
		if err != nil {
			writeProblem(c, bodyError(err))
			return
		}
		files := form.File["file"]
		if len(files) != 1 {
			writeProblem(c, errBadRequest(`exactly one "file" part is required`))
			return
		}
		if data, name, err = readPart(files[0].Filename, files[0].Open, limit); err != nil {
			writeProblem(c, err)
			return
		}
		for _, fh := range form.File["detached"] {
			d, n, err := readPart(fh.Filename, fh.Open, limit)
			if err != nil {
				writeProblem(c, err)
				return
			}
			detached[n] = d
		}
	case "application/xml", "text/xml", "application/pdf", "application/octet-stream", "":
		data, err = io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
		if err != nil {
			writeProblem(c, bodyError(err))
			return
		}
		if int64(len(data)) > limit {
			writeProblem(c, errTooLarge)
			return
		}
		if fn := c.Query("name"); fn != "" {
			name = filepath.Base(fn)
		}
	default:
		writeProblem(c, errUnsupported)
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		writeProblem(c, errBadRequest("empty document"))
		return
	}
	ctx, release, err := s.cfg.VerifySlots.Acquire(c.Request.Context())
	if err != nil {
		if !errors.Is(err, verify.ErrBusy) {
			c.Abort() // the client went away while queued
			return
		}
		tooManyRequests(c, int(s.cfg.VerifySlots.RetryAfter().Seconds()))
		return
	}
	defer release()
	rep := verifyBytes(ctx, name, data, s.policy(), detached)
	s.metrics.verifies.WithLabelValues(rep.Format, string(rep.Indication)).Inc()
	c.JSON(http.StatusOK, rep)
}

// verifyAllowed lets integrators with the verify scope through; anyone else is rate limited per address.
func (s *Server) verifyAllowed(c *gin.Context) bool {
	if s.hasScope(c, "verify") {
		return true
	}
	return s.allowed(c, "verify:"+clientAddr(c), s.cfg.PublicVerifyPerMinute, time.Minute)
}

func (s *Server) policy() *verify.Policy {
	p := *s.cfg.VerifyPolicy
	now := s.cfg.Clock.Now
	p.Now = func() time.Time { return now() }
	return &p
}

func readPart(filename string, open func() (multipartFile, error), limit int64) ([]byte, string, error) {
	f, err := open()
	if err != nil {
		return nil, "", errBadRequest("unreadable part")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, "", bodyError(err)
	}
	if int64(len(data)) > limit {
		return nil, "", errTooLarge
	}
	name := filepath.Base(strings.ReplaceAll(filename, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		name = "document"
	}
	return data, name, nil
}

// bodyError maps a failure to read the request body.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || strings.Contains(err.Error(), "too large") {
		return errTooLarge
	}
	return errBadRequest("unreadable request body")
}
