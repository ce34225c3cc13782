package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/trustsign/trustsign/profile"
)

// officerData is the confirmation point's page.
type officerData struct {
	Number string
	Found  bool
	P      profile.Profile
	// Confirmable: pending, within the confirmation period, contact confirmed.
	Confirmable bool
	Expired     bool
}

var declineReasons = []profile.DeclineReason{profile.DeclineDocumentMismatch, profile.DeclinePersonMismatch,
	profile.DeclineInvalidDocument, profile.DeclineOther}

func (s *server) officerPage(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.officer")
	v.Form.Set("applicationNumber", strings.TrimSpace(r.URL.Query().Get("applicationNumber")))
	s.renderOfficer(w, r, http.StatusOK, v)
}

func (s *server) renderOfficer(w http.ResponseWriter, r *http.Request, status int, v *view) {
	num := strings.TrimSpace(v.Form.Get("applicationNumber"))
	d := officerData{Number: num}
	if num != "" {
		p, err := s.cfg.Profiles.GetByApplicationNumber(r.Context(), num)
		switch {
		case errors.Is(err, profile.ErrNotFound):
			v.Errors["applicationNumber"] = v.T("err.applicationNotFound")
			if status == http.StatusOK {
				status = http.StatusNotFound
			}
		case err != nil:
			s.internal(w, r, err)
			return
		default:
			now := s.cfg.Clock.Now()
			d.Found, d.P, d.Number = true, p, p.ApplicationNumber
			d.Expired = p.Status == profile.Pending && !now.Before(p.ApplicationExpires)
			d.Confirmable = p.Status == profile.Pending && !d.Expired && p.ContactConfirmed
		}
	}
	if v.Form.Get("documentType") == "" {
		v.Form.Set("documentType", string(profile.IDCard))
	}
	v.Data = d
	s.render(w, status, "officer", v)
}

func (s *server) officerID(r *http.Request) string {
	return r.Context().Value(ctxSession).(*authState).sess.SubjectID
}

func officerURL(num, flash string) string {
	return "/officer?applicationNumber=" + url.QueryEscape(num) + "&m=" + flash
}

func (s *server) officerConfirm(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.officer")
	num := strings.TrimSpace(r.PostFormValue("applicationNumber"))
	for _, k := range []string{"applicationNumber", "documentType", "documentNumber"} {
		v.Form.Set(k, strings.TrimSpace(r.PostFormValue(k)))
	}
	if r.PostFormValue("checked") != "yes" {
		v.Errors["checked"] = v.T("val.officerChecked")
	}
	if strings.TrimSpace(r.PostFormValue("documentNumber")) == "" {
		v.Errors["documentNumber"] = v.T("val.required")
	}
	if v.HasErrors() {
		s.renderOfficer(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	_, err := s.cfg.Profiles.ConfirmInPerson(r.Context(), s.officerID(r), num, profile.IdentityDocument{
		Type: profile.DocumentType(r.PostFormValue("documentType")), Number: r.PostFormValue("documentNumber")})
	if err == nil {
		http.Redirect(w, r, officerURL(num, "confirmed"), http.StatusSeeOther)
		return
	}
	status := http.StatusConflict
	switch {
	case errors.Is(err, profile.ErrInvalid):
		v.fieldError(err, "documentNumber")
		status = http.StatusUnprocessableEntity
	case errors.Is(err, profile.ErrNotFound):
		v.Errors["applicationNumber"] = v.T("err.applicationNotFound")
		status = http.StatusNotFound
	case errors.Is(err, profile.ErrApplicationExpired):
		v.Errors[""] = v.T("err.applicationExpired")
	case errors.Is(err, profile.ErrContactUnconfirmed):
		v.Errors[""] = v.T("err.contactUnconfirmed")
	case errors.Is(err, profile.ErrTransition):
		v.Errors[""] = v.T("err.notPending")
	case errors.Is(err, profile.ErrForbidden):
		s.fail(w, r, http.StatusForbidden, "err.officerOnly")
		return
	default:
		s.internal(w, r, err)
		return
	}
	s.renderOfficer(w, r, status, v)
}

func (s *server) officerDecline(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.officer")
	num := strings.TrimSpace(r.PostFormValue("applicationNumber"))
	v.Form.Set("applicationNumber", num)
	reason := profile.DeclineReason(r.PostFormValue("reason"))
	err := s.cfg.Profiles.DeclineInPerson(r.Context(), s.officerID(r), num, reason)
	if err == nil {
		http.Redirect(w, r, officerURL(num, "declined"), http.StatusSeeOther)
		return
	}
	status := http.StatusConflict
	switch {
	case errors.Is(err, profile.ErrInvalid):
		v.Errors["reason"] = v.T("val.choose")
		status = http.StatusUnprocessableEntity
	case errors.Is(err, profile.ErrNotFound):
		v.Errors["applicationNumber"] = v.T("err.applicationNotFound")
		status = http.StatusNotFound
	case errors.Is(err, profile.ErrTransition):
		v.Errors[""] = v.T("err.notPending")
	case errors.Is(err, profile.ErrForbidden):
		s.fail(w, r, http.StatusForbidden, "err.officerOnly")
		return
	default:
		s.internal(w, r, err)
		return
	}
	s.renderOfficer(w, r, status, v)
}
