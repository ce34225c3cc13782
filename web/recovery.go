package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/trustsign/trustsign/profile"
)

// Password recovery: "forgot password" asks for the login or PESEL and sends a code to the profile's confirmed
// contact channel (the page says the same whether or not there is such a profile); the second step takes the code
// and a new password, ends every session of the profile, and sends the holder to the login page.

// recoveryData tells the recovery page which step to show.
type recoveryData struct {
	// Sent shows the second step (code and new password).
	Sent bool
}

func (s *server) recoveryForm(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.recovery")
	v.Data = recoveryData{}
	s.render(w, http.StatusOK, "recovery", v)
}

func (s *server) recoveryRequest(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.recovery")
	account := strings.TrimSpace(r.PostFormValue("account"))
	v.Form.Set("account", account)
	v.Data = recoveryData{}
	if account == "" || len(account) > 64 {
		v.Errors["account"] = v.T("val.account")
		s.render(w, http.StatusUnprocessableEntity, "recovery", v)
		return
	}
	if !s.allowRecovery(w, r, v, profile.ActionResetRequest) {
		return
	}
	if err := s.cfg.Profiles.RequestPasswordReset(r.Context(), account); err != nil {
		s.internal(w, r, err)
		return
	}
	// the same page whether or not a code went anywhere; the identifier stays in the form, not in an address
	v.Data, v.Flash = recoveryData{Sent: true}, "flash.resetSent"
	s.render(w, http.StatusOK, "recovery", v)
}

func (s *server) recoveryConfirm(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.recovery")
	f := r.PostForm
	account := strings.TrimSpace(f.Get("account"))
	v.Form.Set("account", account)
	v.Data = recoveryData{Sent: true}
	code := cleanCode(f.Get("code"))
	switch {
	case account == "" || len(account) > 64:
		v.Errors["account"] = v.T("val.account")
	case !validCode(code):
		v.Errors["code"] = v.T("val.codeFormat")
	case f.Get("password") == "":
		v.Errors["password"] = v.T("val.required")
	case f.Get("password") != f.Get("password2"):
		v.Errors["password2"] = v.T("val.password2")
	}
	if v.HasErrors() {
		s.render(w, http.StatusUnprocessableEntity, "recovery", v)
		return
	}
	if !s.allowRecovery(w, r, v, profile.ActionResetConfirm) {
		return
	}
	err := s.cfg.Profiles.ResetPassword(r.Context(), account, code, f.Get("password"))
	switch {
	case errors.Is(err, profile.ErrBusy):
		s.busy(w, r, err)
		return
	case errors.Is(err, profile.ErrInvalid):
		v.fieldError(err, "password")
		if v.Errors["login"] != "" { // the account field is named differently here
			v.Errors["account"] = v.Errors["login"]
			delete(v.Errors, "login")
		}
		s.render(w, http.StatusUnprocessableEntity, "recovery", v)
		return
	case errors.Is(err, profile.ErrInvalidCode):
		v.Errors["code"] = v.T("err.resetCode")
		s.render(w, http.StatusUnprocessableEntity, "recovery", v)
		return
	case errors.Is(err, profile.ErrDelivery):
		// the password was changed; only the notice failed
	case err != nil:
		s.internal(w, r, err)
		return
	}
	// the reset ended every session, this browser's too
	s.setCookie(w, cookieSession, "", -1)
	http.Redirect(w, r, "/login?m=passwordReset", http.StatusSeeOther)
}

// allowRecovery counts a recovery request or code entry from the client address, in the same store counter as
// the API's (profile.Service.AllowFrom); past the limit it renders the recovery page with 429 and returns false.
func (s *server) allowRecovery(w http.ResponseWriter, r *http.Request, v *view, action profile.Action) bool {
	err := s.cfg.Profiles.AllowFrom(r.Context(), action, s.clientAddr(r))
	switch {
	case err == nil:
		return true
	case errors.Is(err, profile.ErrThrottled):
		setRetryAfter(w, err)
		v.Errors[""] = v.T("err.throttled", retryMinutes(err))
		s.render(w, http.StatusTooManyRequests, "recovery", v)
	default:
		s.internal(w, r, err)
	}
	return false
}

// setRetryAfter sets Retry-After from a *profile.ThrottledError's wait, in whole seconds rounded up (at least 1),
// and returns them.
func setRetryAfter(w http.ResponseWriter, err error) int {
	secs := 1
	var te *profile.ThrottledError
	if errors.As(err, &te) {
		secs = max(1, int(math.Ceil(te.RetryAfter.Seconds())))
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return secs
}

// busy answers 429 with the translated "try again in a moment" page (no password-hashing slot was free).
func (s *server) busy(w http.ResponseWriter, r *http.Request, err error) {
	secs := 1
	var te *profile.ThrottledError
	if errors.As(err, &te) && te.RetryAfter.Seconds() > 1 {
		secs = int(te.RetryAfter.Seconds())
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.fail(w, r, http.StatusTooManyRequests, "err.busy")
}
