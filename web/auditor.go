package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/trustsign/trustsign/verify"
)

func (s *server) verifyForm(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.verify")
	s.render(w, http.StatusOK, "verify", v)
}

// verifyUpload verifies an uploaded signed file and shows its report (or, with output=html, sends the
// self-contained HTML report at once).
func (s *server) verifyUpload(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.verify")
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 || r.MultipartForm.File["file"][0].Size == 0 {
		v.Errors["file"] = v.T("val.file")
		s.render(w, http.StatusUnprocessableEntity, "verify", v)
		return
	}
	fh := r.MultipartForm.File["file"][0]
	if fh.Size > s.cfg.MaxUploadBytes {
		v.Errors["file"] = v.T("err.tooLarge")
		s.render(w, http.StatusRequestEntityTooLarge, "verify", v)
		return
	}
	f, err := fh.Open()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, s.cfg.MaxUploadBytes+1))
	f.Close()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	name := cleanFileName(fh.Filename, "dokument")
	ctx, release, err := s.cfg.VerifySlots.Acquire(r.Context())
	if err != nil {
		if !errors.Is(err, verify.ErrBusy) {
			return // the browser went away while queued
		}
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(s.cfg.VerifySlots.RetryAfter().Seconds()))))
		v.Errors["file"] = v.T("err.verifyBusy")
		s.render(w, http.StatusTooManyRequests, "verify", v)
		return
	}
	rep := verify.Bytes(ctx, name, data, s.cfg.VerifyPolicy, verify.Options{})
	release()
	s.cfg.Metrics.Verified(rep.Format, string(rep.Indication))
	if r.PostFormValue("output") == "html" {
		s.writeReport(w, r, rep, v.Lang)
		return
	}
	id := s.reports.put(rep)
	v.Data = map[string]any{"Report": newReportView([]verify.FileReport{rep}, v.Lang, s.cfg.Clock.Now()),
		"DownloadURL": "/verify/reports/" + id}
	s.render(w, http.StatusOK, "verify_report", v)
}

func (s *server) verifyReportDownload(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.reports.get(r.PathValue("id"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "err.reportGone")
		return
	}
	s.writeReport(w, r, rep, s.lang(w, r))
}

// writeReport sends the self-contained HTML report as a download.
func (s *server) writeReport(w http.ResponseWriter, r *http.Request, rep verify.FileReport, lang string) {
	var buf bytes.Buffer
	if err := RenderReport(&buf, rep, lang); err != nil {
		s.internal(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+translate(lang, "report.fileName")+`"`)
	h.Set("Content-Security-Policy", reportCSP)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes()) //nolint:errcheck
}

// reportCache keeps recent reports for their download link (the uploaded file itself is not kept).
type reportCache struct {
	mu    sync.Mutex
	clock Clock
	max   int
	ttl   time.Duration
	items map[string]cachedReport
	order []string
}

type cachedReport struct {
	rep     verify.FileReport
	expires time.Time
}

func newReportCache(c Clock, max int, ttl time.Duration) *reportCache {
	return &reportCache{clock: c, max: max, ttl: ttl, items: map[string]cachedReport{}}
}

func (c *reportCache) put(rep verify.FileReport) string {
	id := randomToken(18)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	for len(c.order) > 0 && (len(c.order) >= c.max || !now.Before(c.items[c.order[0]].expires)) {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[id] = cachedReport{rep: rep, expires: now.Add(c.ttl)}
	c.order = append(c.order, id)
	return id
}

func (c *reportCache) get(id string) (verify.FileReport, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[id]
	if !ok || !c.clock.Now().Before(it.expires) {
		return verify.FileReport{}, false
	}
	return it.rep, true
}
