package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
)

// The demo integrator: an application to a municipal office. It plays the part of an outside service: it keeps
// its own state (the case in a cookie), submits the documents under Config.DemoClientID, sends the browser to
// the signing page, and on return fetches the signed documents as an integrator does.

func (s *server) demoOn() bool { return s.cfg.DemoClientID != "" && s.cfg.Signing != nil }

// demoOffices and demoMatters are the form's choices: value → catalog key.
var demoOffices = []string{"testowo", "przykladowo"}
var demoMatters = []string{"residence", "certificate", "dog-tax"}

// demoApplication is the document the demo form produces.
type demoApplication struct {
	XMLName   xml.Name `xml:"urn:trustsign:demo:wniosek:1 wniosek"`
	Submitted string   `xml:"dataZlozenia,attr"`
	// Demo and Notice mark the document, inside what the signature covers, as made by the demonstration form.
	Demo      bool   `xml:"demonstracja,attr"`
	Notice    string `xml:"uwaga"`
	Office    string `xml:"urzad"`
	Matter    string `xml:"sprawa"`
	Applicant struct {
		FirstName string `xml:"imie"`
		Surname   string `xml:"nazwisko"`
		Address   string `xml:"adres"`
	} `xml:"wnioskodawca"`
	Content    string          `xml:"tresc"`
	Attachment *demoAttachment `xml:"zalacznik,omitempty"`
}

type demoAttachment struct {
	Name   string `xml:"nazwa,attr"`
	SHA256 string `xml:"sha256,attr"`
}

func (s *server) demoForm(w http.ResponseWriter, r *http.Request) {
	if !s.demoOn() {
		s.notFound(w, r)
		return
	}
	v := s.view(w, r, "title.demo")
	v.Form.Set("office", demoOffices[0])
	v.Form.Set("matter", demoMatters[0])
	s.renderDemo(w, http.StatusOK, v)
}

func (s *server) renderDemo(w http.ResponseWriter, status int, v *view) {
	v.Data = map[string][]string{"Offices": demoOffices, "Matters": demoMatters}
	s.render(w, status, "demo", v)
}

// demoBase is the service's address for the integrator's return addresses.
func (s *server) demoBase(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if s.cfg.Secure || r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *server) demoSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.demoOn() {
		s.notFound(w, r)
		return
	}
	v := s.view(w, r, "title.demo")
	f := r.PostForm
	for _, k := range []string{"office", "matter", "firstName", "surname", "address", "content"} {
		v.Form.Set(k, f.Get(k))
	}
	if !contains(demoOffices, f.Get("office")) {
		v.Errors["office"] = v.T("val.choose")
	}
	if !contains(demoMatters, f.Get("matter")) {
		v.Errors["matter"] = v.T("val.choose")
	}
	for _, k := range []string{"firstName", "surname", "address"} {
		val := strings.TrimSpace(f.Get(k))
		switch {
		case val == "":
			v.Errors[k] = v.T("val.required")
		case utf8.RuneCountInString(val) > 200:
			v.Errors[k] = v.T("val.tooLong", 200)
		}
	}
	if utf8.RuneCountInString(f.Get("content")) > 4000 {
		v.Errors["content"] = v.T("val.tooLong", 4000)
	}
	var pdfData []byte
	var pdfName string
	if r.MultipartForm != nil && len(r.MultipartForm.File["attachment"]) > 0 {
		fh := r.MultipartForm.File["attachment"][0]
		if fh.Size > 0 {
			file, err := fh.Open()
			if err != nil {
				s.internal(w, r, err)
				return
			}
			pdfData, err = io.ReadAll(io.LimitReader(file, s.cfg.MaxUploadBytes+1))
			file.Close()
			if err != nil {
				s.internal(w, r, err)
				return
			}
			pdfName = cleanFileName(fh.Filename, "zalacznik.pdf")
			switch {
			case int64(len(pdfData)) > s.cfg.MaxUploadBytes:
				v.Errors["attachment"] = v.T("err.tooLarge")
			case !bytes.HasPrefix(pdfData, []byte("%PDF-")):
				v.Errors["attachment"] = v.T("val.pdfOnly")
			}
		}
	}
	if v.HasErrors() {
		s.renderDemo(w, http.StatusUnprocessableEntity, v)
		return
	}
	app := demoApplication{Submitted: s.cfg.Clock.Now().UTC().Format("2006-01-02T15:04:05Z"), Demo: true,
		Notice: translate("pl", "demo.documentNotice"),
		Office: translate("pl", "demo.office."+f.Get("office")), Matter: translate("pl", "demo.matter."+f.Get("matter")),
		Content: strings.TrimSpace(f.Get("content"))}
	app.Applicant.FirstName = strings.TrimSpace(f.Get("firstName"))
	app.Applicant.Surname = strings.TrimSpace(f.Get("surname"))
	app.Applicant.Address = strings.TrimSpace(f.Get("address"))
	if pdfData != nil {
		sum := sha256.Sum256(pdfData)
		app.Attachment = &demoAttachment{Name: pdfName, SHA256: hex.EncodeToString(sum[:])}
	}
	doc, err := xml.MarshalIndent(app, "", "  ")
	if err != nil {
		s.internal(w, r, err)
		return
	}
	doc = append([]byte(xml.Header), doc...)
	caseID := randomToken(12)
	back := s.demoBase(r) + "/demo/result?case=" + url.QueryEscape(caseID)
	subs := []signing.Submission{{Document: doc, FileName: "wniosek.xml", Format: signing.FormatXAdES,
		SuccessURL: back, FailureURL: back + "&outcome=failure", AdditionalInfo: v.T("demo.info")}}
	if pdfData != nil {
		subs = append(subs, signing.Submission{Document: pdfData, FileName: pdfName, Format: signing.FormatPAdES,
			SuccessURL: back, FailureURL: back + "&outcome=failure", AdditionalInfo: v.T("demo.info")})
	}
	reqs, err := s.cfg.Signing.SubmitBatch(r.Context(), s.cfg.DemoClientID, subs)
	if err != nil {
		var fe *signing.FieldError
		switch {
		case errors.Is(err, signing.ErrUnsupportedFormat):
			v.Errors["attachment"] = v.T("val.pdfOnly")
		case errors.As(err, &fe):
			// a PDF the seal could never sign (no pages, broken page tree, encrypted, certified without changes)
			v.Errors["attachment"] = v.T("val.pdfUnsignable")
		case errors.Is(err, signing.ErrTooLarge):
			v.Errors["attachment"] = v.T("err.tooLarge")
		case errors.Is(err, signing.ErrSealUnavailable), errors.Is(err, context.DeadlineExceeded):
			s.log.Error("demo submission: PDF preparation unavailable", "error", err.Error())
			w.Header().Set("Retry-After", "30")
			v.Errors["attachment"] = v.T("err.sealUnavailable")
			s.renderDemo(w, http.StatusServiceUnavailable, v)
			return
		default:
			s.internal(w, r, err)
			return
		}
		s.renderDemo(w, http.StatusUnprocessableEntity, v)
		return
	}
	ids := []string{caseID}
	for _, q := range reqs {
		ids = append(ids, q.ID)
	}
	s.setCookie(w, cookieDemo, s.demoCookie(ids), int(demoCookieTTL/time.Second))
	// the pages' own path (SignURL may name another host form of this service, e.g. 127.0.0.1 for localhost)
	http.Redirect(w, r, "/sign/"+url.PathEscape(reqs[0].ID), http.StatusSeeOther)
}

// demoCookieTTL is how long a demo case cookie is honoured (checked on the server's clock).
const demoCookieTTL = 24 * time.Hour

// demoCookie is the case cookie: "CASE.ID….EXPIRES.MAC", where MAC is an HMAC-SHA256 with the server's demo key
// over everything before it. Only the browser that filed the case holds it: without the key, nobody turns a
// request id (which travels in sign links) into a download.
func (s *server) demoCookie(ids []string) string {
	payload := strings.Join(ids, ".") + "." + strconv.FormatInt(s.cfg.Clock.Now().Add(demoCookieTTL).Unix(), 10)
	return payload + "." + s.demoMAC(payload)
}

func (s *server) demoMAC(payload string) string {
	m := hmac.New(sha256.New, s.demoKey)
	m.Write([]byte("trustsign demo case\x00"))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// demoCase reads and checks the demo's case cookie: the case id and its request ids, or "" and nil when the
// cookie is missing, forged, altered or expired.
func (s *server) demoCase(r *http.Request) (string, []string) {
	v := s.cookie(r, cookieDemo)
	cut := strings.LastIndexByte(v, '.')
	if cut < 0 || len(v) > 2048 {
		return "", nil
	}
	payload, mac := v[:cut], v[cut+1:]
	if !hmac.Equal([]byte(mac), []byte(s.demoMAC(payload))) {
		return "", nil
	}
	parts := strings.Split(payload, ".")
	if len(parts) < 3 || len(parts) > 22 {
		return "", nil
	}
	exp, err := strconv.ParseInt(parts[len(parts)-1], 10, 64)
	if err != nil || !s.cfg.Clock.Now().Before(time.Unix(exp, 0)) {
		return "", nil
	}
	return parts[0], parts[1 : len(parts)-1]
}

type demoDoc struct {
	Req         signing.Request
	DownloadURL string
}

func (s *server) demoResult(w http.ResponseWriter, r *http.Request) {
	if !s.demoOn() {
		s.notFound(w, r)
		return
	}
	v := s.view(w, r, "title.demoResult")
	caseID, ids := s.demoCase(r)
	if caseID == "" || caseID != r.URL.Query().Get("case") {
		s.fail(w, r, http.StatusNotFound, "err.demoCase")
		return
	}
	var docs []demoDoc
	status := store.RequestSigned
	for _, id := range ids {
		req, err := s.cfg.Signing.Get(r.Context(), s.cfg.DemoClientID, id)
		if err != nil {
			s.requestError(w, r, err)
			return
		}
		d := demoDoc{Req: req}
		if req.Status == store.RequestSigned {
			d.DownloadURL = "/demo/result/" + url.PathEscape(id) + "/download"
		} else {
			status = req.Status
		}
		docs = append(docs, d)
	}
	v.Data = map[string]any{"Docs": docs, "Status": status}
	s.render(w, http.StatusOK, "demo_result", v)
}

func (s *server) demoDownload(w http.ResponseWriter, r *http.Request) {
	if !s.demoOn() {
		s.notFound(w, r)
		return
	}
	id := r.PathValue("id")
	_, ids := s.demoCase(r)
	if !contains(ids, id) {
		s.fail(w, r, http.StatusNotFound, "err.demoCase")
		return
	}
	req, err := s.cfg.Signing.Get(r.Context(), s.cfg.DemoClientID, id)
	if err != nil {
		s.requestError(w, r, err)
		return
	}
	data, ct, err := s.cfg.Signing.SignedDocument(r.Context(), s.cfg.DemoClientID, id)
	if errors.Is(err, signing.ErrNotReady) {
		s.fail(w, r, http.StatusConflict, "err.notSigned")
		return
	}
	if err != nil {
		s.requestError(w, r, err)
		return
	}
	serveDocument(w, data, signedName(req.FileName, ct), ct, false)
}

// signedName names a signed file: "wniosek.xml" → "wniosek.podpisany.xml"; a wrapped non-XML file gets ".xml".
func signedName(name, contentType string) string {
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	switch {
	case contentType == "application/pdf":
		return base + ".podpisany.pdf"
	case strings.EqualFold(ext, ".xml"):
		return base + ".podpisany.xml"
	}
	return name + ".podpisany.xml"
}

// cleanFileName keeps the last element of an uploaded file's name, without control characters.
func cleanFileName(name, fallback string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || name == "" || len(name) > 200 {
		return fallback
	}
	return name
}
