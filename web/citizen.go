package web

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trustsign/trustsign/profile"
)

func (s *server) home(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.home")
	v.Data = map[string]any{"Demo": s.demoOn(), "Windows": s.upcomingWindows(r.Context())}
	s.render(w, http.StatusOK, "home", v)
}

// registration fields in the order of the form (and of the error summary's links).
var registrationFields = []string{"login", "password", "password2", "firstName", "secondName", "surname", "pesel",
	"email", "phone", "codeChannel"}

func (s *server) registerForm(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.register")
	v.Form.Set("codeChannel", "sms")
	s.render(w, http.StatusOK, "register", v)
}

// checkRegistration applies the profile rules to every field at once, so the applicant sees all problems in one go
// (profile.Register stops at the first).
func (s *server) checkRegistration(v *view, f url.Values) {
	login := strings.TrimSpace(f.Get("login"))
	if err := profile.ValidateLogin(login); err != nil {
		v.fieldError(err, "login")
	}
	for _, name := range []string{"firstName", "surname"} {
		if strings.TrimSpace(f.Get(name)) == "" {
			v.Errors[name] = v.T("val.required")
		}
	}
	if _, err := profile.CheckPESEL(f.Get("pesel"), s.cfg.Clock.Now(), 13); err != nil {
		v.fieldError(err, "pesel")
	}
	if _, err := profile.NormalizeEmail(f.Get("email")); err != nil {
		v.fieldError(err, "email")
	}
	if _, err := profile.NormalizePhone(f.Get("phone")); err != nil {
		v.fieldError(err, "phone")
	}
	if ch := f.Get("codeChannel"); ch != "sms" && ch != "email" {
		v.Errors["codeChannel"] = v.T("val.codeChannel")
	}
	pw := f.Get("password")
	extra := []string{strings.TrimSpace(f.Get("firstName")), strings.TrimSpace(f.Get("surname")), profile.NormalizeLogin(login)}
	if err := profile.CheckPasswordRules(pw, login, extra); err != nil {
		v.fieldError(err, "password")
	} else if f.Get("password2") != pw {
		v.Errors["password2"] = v.T("val.password2")
	}
}

// fieldError puts a profile validation error on its field (fallback names the field when the error names none).
func (v *view) fieldError(err error, fallback string) {
	var ve *profile.ValidationError
	if errors.As(err, &ve) {
		field := ve.Field
		if !contains(registrationFields, field) && field != "documentNumber" && field != "documentType" {
			field = fallback
		}
		v.Errors[field] = translateReason(v.Lang, ve.Reason)
		return
	}
	v.Errors[fallback] = v.T("val.invalid")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *server) register(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.register")
	v.FieldOrder = registrationFields
	f := r.PostForm
	for _, k := range registrationFields {
		if k != "password" && k != "password2" {
			v.Form.Set(k, f.Get(k))
		}
	}
	s.checkRegistration(v, f)
	if v.HasErrors() {
		s.render(w, http.StatusUnprocessableEntity, "register", v)
		return
	}
	// per client address, whatever the data (a flood of registrations is a flood of messages)
	if err := s.cfg.Profiles.AllowFrom(r.Context(), profile.ActionRegister, s.clientAddr(r)); err != nil {
		if !errors.Is(err, profile.ErrThrottled) {
			s.internal(w, r, err)
			return
		}
		v.Errors[""] = v.T("err.throttled", retryMinutes(err))
		s.render(w, http.StatusTooManyRequests, "register", v)
		return
	}
	reg, err := s.cfg.Profiles.Register(r.Context(), profile.Application{Login: strings.TrimSpace(f.Get("login")),
		Password: f.Get("password"), FirstName: f.Get("firstName"), SecondName: f.Get("secondName"),
		Surname: f.Get("surname"), PESEL: strings.TrimSpace(f.Get("pesel")), Email: f.Get("email"),
		Phone: f.Get("phone"), CodeChannel: profile.Channel(f.Get("codeChannel"))})
	flash := "registered"
	switch {
	case errors.Is(err, profile.ErrInvalid):
		v.fieldError(err, "login")
		s.render(w, http.StatusUnprocessableEntity, "register", v)
		return
	case errors.Is(err, profile.ErrBusy):
		s.busy(w, r, err)
		return
	case errors.Is(err, profile.ErrDelivery) && reg.ID != "":
		flash = "deliveryFailed"
	case err != nil:
		s.internal(w, r, err)
		return
	}
	// The same answer whether or not the login or PESEL was taken: the id and number of a duplicate lead
	// nowhere, and the pages below never look them up.
	s.setCookie(w, cookieReg, reg.ID+"."+url.PathEscape(reg.ApplicationNumber), 14*24*3600)
	http.Redirect(w, r, "/register/confirm?m="+flash, http.StatusSeeOther)
}

// pendingRegistration reads the registration cookie: the profile id and the application number.
func (s *server) pendingRegistration(r *http.Request) (id, number string, ok bool) {
	id, num, found := strings.Cut(s.cookie(r, cookieReg), ".")
	if !found || id == "" || len(id) > 64 {
		return "", "", false
	}
	number, err := url.PathUnescape(num)
	if err != nil || len(number) > 32 {
		return "", "", false
	}
	return id, number, true
}

func (s *server) contactForm(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.contact")
	s.renderContact(w, r, http.StatusOK, v)
}

func (s *server) renderContact(w http.ResponseWriter, r *http.Request, status int, v *view) {
	_, number, ok := s.pendingRegistration(r)
	v.Data = map[string]any{"Known": ok, "ApplicationNumber": number, "Confirmed": v.Flash == "flash.contactConfirmed"}
	s.render(w, status, "contact", v)
}

func (s *server) confirmContact(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.contact")
	id, _, ok := s.pendingRegistration(r)
	if !ok {
		http.Redirect(w, r, "/register/confirm", http.StatusSeeOther)
		return
	}
	code := cleanCode(r.PostFormValue("code"))
	if !validCode(code) {
		v.Errors["code"] = v.T("val.codeFormat")
		s.renderContact(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err := s.cfg.Profiles.ConfirmContact(r.Context(), id, code); err != nil {
		status, key := codeError(err)
		if key == "" {
			s.internal(w, r, err)
			return
		}
		v.Errors["code"] = v.T(key, retryMinutes(err))
		s.renderContact(w, r, status, v)
		return
	}
	http.Redirect(w, r, "/register/confirm?m=contactConfirmed", http.StatusSeeOther)
}

func (s *server) resendContact(w http.ResponseWriter, r *http.Request) {
	id, _, ok := s.pendingRegistration(r)
	if !ok {
		http.Redirect(w, r, "/register/confirm", http.StatusSeeOther)
		return
	}
	err := s.cfg.Profiles.AllowFrom(r.Context(), profile.ActionResend, s.clientAddr(r))
	if err == nil {
		err = s.cfg.Profiles.ResendContactCode(r.Context(), id)
	}
	if err != nil {
		v := s.view(w, r, "title.contact")
		status, key := codeError(err)
		if key == "" {
			s.internal(w, r, err)
			return
		}
		v.Errors["code"] = v.T(key, retryMinutes(err))
		s.renderContact(w, r, status, v)
		return
	}
	http.Redirect(w, r, "/register/confirm?m=codeResent", http.StatusSeeOther)
}

// codeError maps the errors of code entry and code requests to a status and a message key ("" for an
// unexpected error).
func codeError(err error) (int, string) {
	switch {
	case errors.Is(err, profile.ErrCodeKilled):
		return http.StatusUnprocessableEntity, "err.codeKilled"
	case errors.Is(err, profile.ErrCodeExpired):
		return http.StatusUnprocessableEntity, "err.codeExpired"
	case errors.Is(err, profile.ErrInvalidCode):
		return http.StatusUnprocessableEntity, "err.codeWrong"
	case errors.Is(err, profile.ErrThrottled):
		return http.StatusTooManyRequests, "err.throttled"
	case errors.Is(err, profile.ErrDelivery):
		return http.StatusBadGateway, "err.delivery"
	case errors.Is(err, profile.ErrNotActive):
		return http.StatusConflict, "err.notActive"
	}
	return 0, ""
}

// retryMinutes is the wait of a throttled request in whole minutes (at least 1).
func retryMinutes(err error) int {
	var te *profile.ThrottledError
	if errors.As(err, &te) {
		return int(math.Max(1, math.Ceil(te.RetryAfter.Minutes())))
	}
	return 1
}

func cleanCode(c string) string {
	return strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(c))
}

func validCode(c string) bool {
	if len(c) < 6 || len(c) > 10 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return false
		}
	}
	return true
}

func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.login")
	v.Form.Set("next", safeNext(r.URL.Query().Get("next")))
	s.renderLogin(w, http.StatusOK, v)
}

func (s *server) renderLogin(w http.ResponseWriter, status int, v *view) {
	v.Data = map[string]bool{"ToSign": strings.HasPrefix(v.Form.Get("next"), "/sign/"),
		"ToOfficer": strings.HasPrefix(v.Form.Get("next"), "/officer")}
	s.render(w, status, "login", v)
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.login")
	next := safeNext(r.PostFormValue("next"))
	v.Form.Set("next", next)
	v.Form.Set("login", r.PostFormValue("login"))
	sess, err := s.cfg.Profiles.LoginFrom(r.Context(), s.clientAddr(r), r.PostFormValue("login"), r.PostFormValue("password"))
	switch {
	case errors.Is(err, profile.ErrBusy):
		s.busy(w, r, err)
		return
	case errors.Is(err, profile.ErrInvalidCredentials):
		v.Errors["password"] = v.T("err.credentials")
		s.renderLogin(w, http.StatusUnauthorized, v)
		return
	case errors.Is(err, profile.ErrThrottled):
		// growing delays: seconds at first, minutes later
		if secs := setRetryAfter(w, err); secs < 60 {
			v.Errors["password"] = v.T("err.loginDelay", secs)
		} else {
			v.Errors["password"] = v.T("err.loginThrottled", retryMinutes(err))
		}
		s.renderLogin(w, http.StatusTooManyRequests, v)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	if old := s.cookie(r, cookieSession); old != "" {
		_ = s.cfg.Profiles.Logout(r.Context(), old)
	}
	s.setCookie(w, cookieSession, sess.Token, 0)
	if next == "" || (sess.Role == profile.RoleOfficer) != strings.HasPrefix(next, "/officer") {
		next = "/profile"
		if sess.Role == profile.RoleOfficer {
			next = "/officer"
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if token := s.cookie(r, cookieSession); token != "" {
		if err := s.cfg.Profiles.Logout(r.Context(), token); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	s.setCookie(w, cookieSession, "", -1)
	http.Redirect(w, r, "/?m=loggedOut", http.StatusSeeOther)
}

// profileData is the "my profile" page.
type profileData struct {
	P profile.Profile
	// Status is the status to show (an active profile past its expiry shows as expired before the sweep).
	Status string
	// CodeSent shows the extension code field.
	CodeSent  bool
	CanExtend bool
	Now       time.Time
}

func (s *server) profilePage(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.profile")
	s.renderProfile(w, r, http.StatusOK, v)
}

func (s *server) renderProfile(w http.ResponseWriter, r *http.Request, status int, v *view) {
	sess := r.Context().Value(ctxSession).(*authState).sess
	p, err := s.cfg.Profiles.Get(r.Context(), sess.SubjectID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	now := s.cfg.Clock.Now()
	d := profileData{P: p, Status: string(p.Status), Now: now,
		CodeSent: v.Flash == "flash.extendSent" || v.Errors["extendCode"] != ""}
	if p.Status == profile.Active && p.Expires != nil && !now.Before(*p.Expires) {
		d.Status = string(profile.Expired)
	}
	d.CanExtend = d.Status == string(profile.Active) && !p.Temporary
	v.Data = d
	s.render(w, status, "profile", v)
}

// profileFailure shows err on the profile page next to field (v is made when nil). transitionKey, when set, names
// the message for profile.ErrTransition; errors with no message of their own are internal.
func (s *server) profileFailure(w http.ResponseWriter, r *http.Request, v *view, field string, err error, transitionKey string) {
	status, key := codeError(err)
	if transitionKey != "" && errors.Is(err, profile.ErrTransition) {
		status, key = http.StatusConflict, transitionKey
	}
	if key == "" {
		s.internal(w, r, err)
		return
	}
	if v == nil {
		v = s.view(w, r, "title.profile")
	}
	v.Errors[field] = v.T(key, retryMinutes(err))
	s.renderProfile(w, r, status, v)
}

func (s *server) holderID(r *http.Request) string {
	return r.Context().Value(ctxSession).(*authState).sess.SubjectID
}

func (s *server) profileContact(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.profile")
	code := cleanCode(r.PostFormValue("code"))
	if !validCode(code) {
		v.Errors["code"] = v.T("val.codeFormat")
		s.renderProfile(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err := s.cfg.Profiles.ConfirmContact(r.Context(), s.holderID(r), code); err != nil {
		s.profileFailure(w, r, v, "code", err, "")
		return
	}
	http.Redirect(w, r, "/profile?m=contactConfirmed", http.StatusSeeOther)
}

func (s *server) profileContactResend(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Profiles.ResendContactCode(r.Context(), s.holderID(r)); err != nil {
		s.profileFailure(w, r, nil, "code", err, "")
		return
	}
	http.Redirect(w, r, "/profile?m=codeResent", http.StatusSeeOther)
}

func (s *server) extendCode(w http.ResponseWriter, r *http.Request) {
	if _, err := s.cfg.Profiles.RequestExtensionCode(r.Context(), s.holderID(r)); err != nil {
		s.profileFailure(w, r, nil, "extend", err, "err.extendNotYet")
		return
	}
	http.Redirect(w, r, "/profile?m=extendSent", http.StatusSeeOther)
}

func (s *server) extend(w http.ResponseWriter, r *http.Request) {
	v := s.view(w, r, "title.profile")
	code := cleanCode(r.PostFormValue("code"))
	if !validCode(code) {
		v.Errors["extendCode"] = v.T("val.codeFormat")
		s.renderProfile(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if _, err := s.cfg.Profiles.Extend(r.Context(), s.holderID(r), code); err != nil {
		s.profileFailure(w, r, v, "extendCode", err, "err.extendNotYet")
		return
	}
	http.Redirect(w, r, "/profile?m=extended", http.StatusSeeOther)
}

func (s *server) revoke(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("confirm") != "yes" {
		v := s.view(w, r, "title.profile")
		v.Errors["confirm"] = v.T("val.revokeConfirm")
		s.renderProfile(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	err := s.cfg.Profiles.Revoke(r.Context(), s.holderID(r))
	if errors.Is(err, profile.ErrTransition) {
		v := s.view(w, r, "title.profile")
		v.Errors["confirm"] = v.T("err.revokeNotAllowed")
		s.renderProfile(w, r, http.StatusConflict, v)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// revocation ended the holder's sessions; the cookie goes too
	s.setCookie(w, cookieSession, "", -1)
	http.Redirect(w, r, "/?m=revoked", http.StatusSeeOther)
}

// maskPhone shows the last three digits of a phone number; maskEmail the first letter and the domain.
func maskPhone(p string) string {
	if len(p) < 4 {
		return "***"
	}
	return strings.Repeat("•", 3) + " " + p[len(p)-3:]
}

func maskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at < 1 {
		return "***"
	}
	return e[:1] + "•••" + e[at:]
}

func destination(p profile.Profile) string {
	if p.CodeChannel == profile.ChannelSMS {
		return maskPhone(p.Phone)
	}
	return maskEmail(p.Email)
}
