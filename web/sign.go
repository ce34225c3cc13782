package web

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/xades"
)

// maxShownXML is the largest document shown pretty-printed on the signing page (larger ones are offered for
// download only).
const maxShownXML = 2 << 20

// signDoc is one document on the signing page.
type signDoc struct {
	Req signing.Request
	// Kind is "pdf", "xml", "text" or "other".
	Kind     string
	Pretty   string
	TooLarge bool
	Digest   string
	ViewURL  string
	// ExcludedSignatures counts existing ds:Signature elements that the new signature will not cover (not shown).
	ExcludedSignatures int
	DownloadURL        string
}

// signData is the signing page.
type signData struct {
	ID      string
	Docs    []signDoc
	Phrase  string
	Service string
	Info    string
	Status  string
	Expires time.Time
	// CodeRequested: this holder has asked for a code (the request is bound to them).
	CodeRequested bool
	Channel       string
	Destination   string
	SuccessURL    string
	FailureURL    string
	// Demo: the request comes from the demonstration form (anyone may have filled it in), not an integrator.
	Demo bool
}

func (s *server) signPage(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.sign")
	s.renderSign(w, r, http.StatusOK, v)
}

// requestError answers the errors that end a signing page: unknown request, another holder's.
func (s *server) requestError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, signing.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, "err.requestNotFound")
	case errors.Is(err, signing.ErrOtherHolder):
		s.fail(w, r, http.StatusForbidden, "err.otherHolder")
	default:
		s.internal(w, r, err)
	}
}

func (s *server) renderSign(w http.ResponseWriter, r *http.Request, status int, v *view) {
	id := r.PathValue("id")
	holder := s.holderID(r)
	pv, err := s.cfg.Signing.Preview(r.Context(), holder, id)
	if err != nil {
		s.requestError(w, r, err)
		return
	}
	first := pv.Requests[0]
	d := signData{ID: id, Phrase: strings.ToUpper(profile.DisplayPhrase(pv.Phrase)), Info: first.AdditionalInfo, Status: first.Status,
		Expires: first.Expires, CodeRequested: first.ProfileID == holder, SuccessURL: first.SuccessURL,
		FailureURL: first.FailureURL, Service: s.serviceName(r, v, first.ClientID),
		Demo: s.cfg.DemoClientID != "" && first.ClientID == s.cfg.DemoClientID}
	for i, req := range pv.Requests {
		if req.Status != store.RequestPending {
			d.Status = req.Status
		}
		if req.ProfileID != holder {
			d.CodeRequested = false
		}
		doc := signDoc{Req: req, Digest: hex.EncodeToString(req.Digest),
			ViewURL:     "/sign/" + url.PathEscape(id) + "/documents/" + url.PathEscape(req.ID),
			DownloadURL: "/sign/" + url.PathEscape(id) + "/documents/" + url.PathEscape(req.ID) + "?download=1"}
		data := pv.Documents[i]
		switch {
		case req.ContentType == "application/pdf":
			doc.Kind = "pdf"
		case looksLikeXML(data) && len(data) > maxShownXML:
			doc.Kind, doc.TooLarge = "xml", true
		case looksLikeXML(data) && xmlCoverage(&doc, data):
			// shown: exactly what the signature will cover (see xmlCoverage)
		case looksLikeXML(data) || strings.HasPrefix(req.ContentType, "text/"):
			doc.Kind = "text"
			if len(data) > maxShownXML {
				doc.TooLarge = true
			} else {
				doc.Pretty = strings.ToValidUTF8(string(data), "\uFFFD")
			}
		default:
			doc.Kind = "other"
		}
		d.Docs = append(d.Docs, doc)
	}
	if p, err := s.cfg.Profiles.Get(r.Context(), holder); err == nil {
		d.Channel, d.Destination = string(p.CodeChannel), destination(p)
	}
	v.Data = d
	s.render(w, status, "sign", v)
}

// serviceName names the integrator that asks for the signature.
func (s *server) serviceName(r *http.Request, v *view, clientID string) string {
	if c, err := s.cfg.Profiles.Client(r.Context(), clientID); err == nil {
		return c.Name
	}
	if clientID != "" && clientID == s.cfg.DemoClientID {
		return v.T("demo.service")
	}
	return v.T("sign.unknownService")
}

// xmlCoverage shows an XML document as the octets the enveloped signature will digest (xades.EnvelopedCoverage):
// existing ds:Signature elements, comments and the XML declaration are not covered, so they are not shown, and the
// page says how many signatures were left out. It returns false for text that only looks like XML: the service
// signs that as a file inside the XML container, and the page shows it as text.
func xmlCoverage(doc *signDoc, data []byte) bool {
	covered, excluded, err := xades.EnvelopedCoverage(data, xmldoc.Limits{})
	if err != nil {
		return false
	}
	doc.Kind, doc.Pretty, doc.ExcludedSignatures = "xml", prettyXML(covered), excluded
	return true
}

func looksLikeXML(data []byte) bool {
	d := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
	return len(d) > 0 && d[0] == '<'
}

// signDocument serves a document of the request to its holder: a PDF inline for the browser's viewer in the
// signing page's frame, anything else (and a PDF on ?download=1) as an attachment, never rendered by the browser.
func (s *server) signDocument(w http.ResponseWriter, r *http.Request) {
	pv, err := s.cfg.Signing.Preview(r.Context(), s.holderID(r), r.PathValue("id"))
	if err != nil {
		s.requestError(w, r, err)
		return
	}
	for i, req := range pv.Requests {
		if req.ID != r.PathValue("doc") {
			continue
		}
		inline := req.ContentType == "application/pdf" && r.URL.Query().Get("download") == ""
		serveDocument(w, pv.Documents[i], req.FileName, req.ContentType, inline)
		return
	}
	s.fail(w, r, http.StatusNotFound, "err.requestNotFound")
}

// serveDocument writes a document. Inline is for PDFs shown in a frame of our own pages; attachments are
// sandboxed should a browser render them anyway.
func serveDocument(w http.ResponseWriter, data []byte, name, contentType string, inline bool) {
	h := w.Header()
	disposition := "attachment"
	if inline {
		disposition = "inline"
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'self'")
		h.Set("X-Frame-Options", "SAMEORIGIN")
	} else {
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", contentDisposition(disposition, name))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(data) //nolint:errcheck
}

func (s *server) signCode(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, err := s.cfg.Signing.RequestCode(r.Context(), s.holderID(r), id)
	if err == nil {
		http.Redirect(w, r, "/sign/"+url.PathEscape(id)+"?m=codeSent", http.StatusSeeOther)
		return
	}
	s.signError(w, r, err, "")
}

// signError answers a failed step of the signing page: a closed request goes back to the integrator, code
// problems are shown on the page (field "" for the code request, "code" for the entry).
func (s *server) signError(w http.ResponseWriter, r *http.Request, err error, field string) {
	switch {
	case errors.Is(err, signing.ErrClosed):
		s.closedRedirect(w, r)
		return
	case errors.Is(err, signing.ErrNotFound), errors.Is(err, signing.ErrOtherHolder):
		s.requestError(w, r, err)
		return
	case errors.Is(err, signing.ErrSealUnavailable):
		// nothing was signed and the code was not spent: the page stays, so the holder can retry with the same code
		s.log.Error("seal unavailable", "request", r.PathValue("id"), "error", err.Error())
		w.Header().Set("Retry-After", "30")
		v := s.view(w, r, "title.sign")
		v.Errors[field] = v.T("err.sealUnavailable")
		s.renderSign(w, r, http.StatusServiceUnavailable, v)
		return
	case errors.Is(err, signing.ErrUnsupportedFormat):
		// sealing failed: the request is marked failed and the integrator is told
		s.log.Error("signing failed", "request", r.PathValue("id"), "error", err.Error())
		s.closedRedirect(w, r)
		return
	}
	status, key := codeError(err)
	if key == "" {
		s.internal(w, r, err)
		return
	}
	v := s.view(w, r, "title.sign")
	v.Errors[field] = v.T(key, retryMinutes(err))
	s.renderSign(w, r, status, v)
}

// closedRedirect sends the holder of a request that is no longer pending back to the integrator: the success
// address when it was signed, the failure address otherwise; without an address the page shows the status.
func (s *server) closedRedirect(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	pv, err := s.cfg.Signing.Preview(r.Context(), s.holderID(r), id)
	if err != nil {
		s.requestError(w, r, err)
		return
	}
	req := pv.Requests[0]
	target := req.FailureURL
	if req.Status == store.RequestSigned {
		target = req.SuccessURL
	}
	if target == "" {
		target = "/sign/" + url.PathEscape(id)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *server) signConfirm(w http.ResponseWriter, r *http.Request) {
	code := cleanCode(r.PostFormValue("code"))
	if !validCode(code) {
		v := s.view(w, r, "title.sign")
		v.Errors["code"] = v.T("val.codeFormat")
		s.renderSign(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	done, err := s.cfg.Signing.Confirm(r.Context(), s.holderID(r), r.PathValue("id"), code)
	if err != nil {
		if errors.Is(err, profile.ErrCodeMismatch) {
			err = profile.ErrInvalidCode
		}
		s.signError(w, r, err, "code")
		return
	}
	for _, d := range done {
		s.cfg.Metrics.Signed(d.Format)
	}
	if len(done) > 0 && done[0].SuccessURL != "" {
		http.Redirect(w, r, done[0].SuccessURL, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/sign/"+url.PathEscape(r.PathValue("id"))+"?m=signed", http.StatusSeeOther)
}

func (s *server) signCancel(w http.ResponseWriter, r *http.Request) {
	req, err := s.cfg.Signing.Cancel(r.Context(), s.holderID(r), r.PathValue("id"))
	if err != nil {
		s.signError(w, r, err, "")
		return
	}
	target := req.FailureURL
	if target == "" {
		target = "/sign/" + url.PathEscape(r.PathValue("id")) + "?m=cancelled"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// contentDisposition is an RFC 6266 Content-Disposition. filename is a plain-ASCII fallback: Polish letters lose
// their diacritics, and controls, quotes, backslashes, path and parameter separators and anything else beyond
// ASCII become "_". When the name is not that, filename* carries it in UTF-8 (RFC 8187). Either way the name has
// been through signing.Shown: its controls and bidi controls are visible escapes.
func contentDisposition(disposition, name string) string {
	name = signing.Shown(name)
	var fb strings.Builder
	for _, r := range name {
		if a, ok := polishASCII[r]; ok {
			r = a
		}
		if r < 0x20 || r > 0x7e || strings.ContainsRune(`"\/;%`, r) {
			r = '_'
		}
		fb.WriteRune(r)
	}
	fallback := strings.Trim(fb.String(), " .")
	if strings.Trim(fallback, "_") == "" {
		fallback = "dokument"
	}
	out := disposition + `; filename="` + fallback + `"`
	if fallback != name {
		out += "; filename*=UTF-8''" + rfc8187(name)
	}
	return out
}

// polishASCII writes Polish letters without their diacritics in the ASCII fallback name.
var polishASCII = map[rune]rune{'ą': 'a', 'ć': 'c', 'ę': 'e', 'ł': 'l', 'ń': 'n', 'ó': 'o', 'ś': 's', 'ź': 'z', 'ż': 'z',
	'Ą': 'A', 'Ć': 'C', 'Ę': 'E', 'Ł': 'L', 'Ń': 'N', 'Ó': 'O', 'Ś': 'S', 'Ź': 'Z', 'Ż': 'Z'}

// rfc8187 percent-encodes every byte of s outside RFC 8187's attr-char.
func rfc8187(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
