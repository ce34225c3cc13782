package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/trustsign/trustsign/store"
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
	dl := ""
	if id, err := s.reports.put(r.Context(), rep); err != nil {
		// the report is shown all the same; only its download link is missing
		s.log.Error("keeping the verification report for its link", "error", err.Error())
	} else if id != "" {
		dl = "/verify/reports/" + id
	}
	v.Data = map[string]any{"Report": newReportView([]verify.FileReport{rep}, v.Lang, s.cfg.Clock.Now()),
		"DownloadURL": dl}
	s.render(w, http.StatusOK, "verify_report", v)
}

func (s *server) verifyReportDownload(w http.ResponseWriter, r *http.Request) {
	rep, ok, err := s.reports.get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.internal(w, r, err)
		return
	}
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

// Reports behind download links: kept reportTTL, at most reportsKept of them, none larger than reportMaxBytes
// (JSON); the link id is a random capability of 144 bits.
const (
	reportTTL      = 30 * time.Minute
	reportsKept    = 200
	reportMaxBytes = 1 << 20
)

// reportKeeper keeps recent reports for their download link (the uploaded file itself is not kept).
type reportKeeper interface {
	// put keeps rep and returns its link id ("" when the report is too large to keep).
	put(ctx context.Context, rep verify.FileReport) (string, error)
	// get returns the report of a link id, with false when there is none (unknown, expired or pushed out).
	get(ctx context.Context, id string) (verify.FileReport, bool, error)
}

// ReportStore keeps the verification page's reports when several nodes serve one database (*store.DB satisfies
// it), so that a download link works on any node.
type ReportStore interface {
	View(ctx context.Context, fn func(*store.Tx) error) error
	Update(ctx context.Context, fn func(*store.Tx) error) error
}

// storeReports keeps reports in the store (store.Tx.PutVerifyReport): under the hash of their link id, until they
// expire; the store's sweep (profile.Service.Sweep) removes expired ones even when no new report pushes them out.
type storeReports struct {
	st    ReportStore
	clock Clock
}

func (k storeReports) put(ctx context.Context, rep verify.FileReport) (string, error) {
	raw, err := json.Marshal(rep)
	if err != nil {
		return "", err
	}
	if len(raw) > reportMaxBytes {
		return "", nil
	}
	id := randomToken(18)
	now := k.clock.Now()
	err = k.st.Update(ctx, func(tx *store.Tx) error {
		return tx.PutVerifyReport(id, store.VerifyReport{Expires: now.Add(reportTTL), Report: raw}, now, reportsKept)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

func (k storeReports) get(ctx context.Context, id string) (verify.FileReport, bool, error) {
	var sr store.VerifyReport
	err := k.st.View(ctx, func(tx *store.Tx) (err error) {
		sr, err = tx.VerifyReportOf(id, k.clock.Now())
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return verify.FileReport{}, false, nil
	}
	if err != nil {
		return verify.FileReport{}, false, err
	}
	var rep verify.FileReport
	if err := json.Unmarshal(sr.Report, &rep); err != nil {
		return verify.FileReport{}, false, fmt.Errorf("web: stored verification report: %w", err)
	}
	return rep, true, nil
}

// reportCache keeps reports in this process's memory (one node: nothing personal is written to disk).
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

func (c *reportCache) put(_ context.Context, rep verify.FileReport) (string, error) {
	if raw, err := json.Marshal(rep); err != nil || len(raw) > reportMaxBytes {
		return "", err
	}
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
	return id, nil
}

func (c *reportCache) get(_ context.Context, id string) (verify.FileReport, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[id]
	if !ok || !c.clock.Now().Before(it.expires) {
		return verify.FileReport{}, false, nil
	}
	return it.rep, true, nil
}
