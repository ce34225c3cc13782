package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/profile"
)

// JSON shapes of the profile routes (API types, separate from the domain's).
type registerBody struct {
	Login       string `json:"login"`
	Password    string `json:"password"`
	FirstName   string `json:"firstName"`
	SecondName  string `json:"secondName"`
	Surname     string `json:"surname"`
	PESEL       string `json:"pesel"`
	Email       string `json:"email"`
	Phone       string `json:"phone"`
	CodeChannel string `json:"codeChannel"`
}

type registrationJSON struct {
	ID                string `json:"id"`
	ApplicationNumber string `json:"applicationNumber"`
	Status            string `json:"status"`
	// ApplicationSecret, sent as the ApplicationSecretHeader, fetches the qualified confirmation document.
	ApplicationSecret string `json:"applicationSecret"`
}

// ApplicationSecretHeader carries the registration's applicationSecret to GET the qualified confirmation document
// (it holds the applicant's PESEL and names, so the application number alone is not enough).
const ApplicationSecretHeader = "Application-Secret"

type codeBody struct {
	Code string `json:"code"`
}

type loginBody struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type sessionJSON struct {
	Token   string    `json:"token"`
	Role    string    `json:"role"`
	Expires time.Time `json:"expires"`
}

type confirmationJSON struct {
	Method       string    `json:"method"`
	At           time.Time `json:"at"`
	DocumentType string    `json:"documentType,omitempty"`
}

type profileJSON struct {
	ID                 string            `json:"id"`
	ApplicationNumber  string            `json:"applicationNumber"`
	Login              string            `json:"login"`
	FirstName          string            `json:"firstName"`
	SecondName         string            `json:"secondName,omitempty"`
	Surname            string            `json:"surname"`
	PESEL              string            `json:"pesel"`
	Email              string            `json:"email"`
	Phone              string            `json:"phone"`
	CodeChannel        string            `json:"codeChannel"`
	Status             string            `json:"status"`
	Temporary          bool              `json:"temporary"`
	ContactConfirmed   bool              `json:"contactConfirmed"`
	Created            time.Time         `json:"created"`
	ApplicationExpires *time.Time        `json:"applicationExpires,omitempty"`
	Expires            *time.Time        `json:"expires,omitempty"`
	Confirmation       *confirmationJSON `json:"confirmation,omitempty"`
}

func toProfileJSON(p profile.Profile) profileJSON {
	out := profileJSON{ID: p.ID, ApplicationNumber: p.ApplicationNumber, Login: p.Login, FirstName: p.FirstName,
		SecondName: p.SecondName, Surname: p.Surname, PESEL: p.PESEL, Email: p.Email, Phone: p.Phone,
		CodeChannel: string(p.CodeChannel), Status: string(p.Status), Temporary: p.Temporary,
		ContactConfirmed: p.ContactConfirmed, Created: p.Created, Expires: p.Expires}
	if p.Status == profile.Pending {
		t := p.ApplicationExpires
		out.ApplicationExpires = &t
	}
	if c := p.Confirmation; c != nil {
		out.Confirmation = &confirmationJSON{Method: string(c.Method), At: c.At, DocumentType: string(c.DocumentType)}
	}
	return out
}

type codeInfoJSON struct {
	Expires time.Time `json:"expiresAt"`
	Channel string    `json:"channel"`
	Phrase  string    `json:"verificationPhrase,omitempty"`
}

func (s *Server) profileRoutes() {
	citizen := []string{"profiles"}
	maint := s.duringMaintenance
	s.handle("POST", "/v1/profiles", op{Summary: "Apply for a trusted profile (a contact-confirmation code goes to the preferred channel)",
		Request: "Registration", Responses: map[int]string{201: "RegistrationResult", 400: "problem", 422: "problem", 429: "problem"}, Tags: citizen},
		s.register)
	s.handle("POST", "/v1/profiles/:id/contact-confirmation", op{Summary: "Confirm the contact channel with the code",
		Request: "Code", Responses: map[int]string{204: "", 422: "problem", 429: "problem"}, Tags: citizen}, s.confirmContact)
	s.handle("POST", "/v1/profiles/:id/contact-confirmation/resend", op{Summary: "Send a new contact-confirmation code (the previous one stops working)",
		Responses: map[int]string{202: "", 429: "problem"}, Tags: citizen}, s.resendContact)
	s.handle("POST", "/v1/sessions", op{Summary: "Log in (holders and officers); the token is also set as a Secure HttpOnly cookie",
		Request: "Login", Responses: map[int]string{201: "Session", 401: "problem", 429: "problem", 503: "problem"}, Tags: []string{"sessions"}},
		maint, s.login)
	s.handle("DELETE", "/v1/sessions/current", op{Summary: "Log out", Auth: "holder|officer", Responses: map[int]string{204: ""},
		Tags: []string{"sessions"}}, s.logout)
	s.handle("GET", "/v1/profiles/me", op{Summary: "The logged-in holder's profile", Auth: "holder",
		Responses: map[int]string{200: "Profile", 401: "problem"}, Tags: citizen}, s.session(profile.RoleHolder), s.me)
	s.handle("POST", "/v1/profiles/me/extension-code", op{Summary: "Send a code to extend the profile by 3 years", Auth: "holder",
		Responses: map[int]string{202: "CodeInfo", 409: "problem", 429: "problem"}, Tags: citizen}, maint, s.session(profile.RoleHolder), s.extensionCode)
	s.handle("POST", "/v1/profiles/me/extension", op{Summary: "Extend the profile with the code", Auth: "holder", Request: "Code",
		Responses: map[int]string{200: "Profile", 409: "problem", 422: "problem"}, Tags: citizen}, maint, s.session(profile.RoleHolder), s.extend)
	s.handle("POST", "/v1/profiles/me/revocation", op{Summary: "Revoke the profile (final)", Auth: "holder",
		Responses: map[int]string{204: "", 409: "problem"}, Tags: citizen}, s.session(profile.RoleHolder), s.revoke)

	officer := []string{"officers"}
	s.handle("GET", "/v1/officer/applications/:applicationNumber", op{Summary: "An application's data, to compare with the identity document",
		Auth: "officer", Responses: map[int]string{200: "Profile", 404: "problem"}, Tags: officer}, s.session(profile.RoleOfficer), s.application)
	s.handle("POST", "/v1/officer/applications/:applicationNumber/confirm", op{Summary: "Confirm an application in person (identity document checked)",
		Auth: "officer", Request: "IdentityDocument", Responses: map[int]string{200: "Profile", 404: "problem", 409: "problem", 410: "problem", 422: "problem"},
		Tags: officer}, s.session(profile.RoleOfficer), s.officerConfirm(false))
	s.handle("POST", "/v1/officer/applications/:applicationNumber/confirm-video", op{Summary: "Confirm a temporary profile (3 months) after a video call",
		Auth: "officer", Request: "IdentityDocument", Responses: map[int]string{200: "Profile", 404: "problem", 409: "problem", 422: "problem"},
		Tags: officer}, s.session(profile.RoleOfficer), s.officerConfirm(true))
	s.handle("POST", "/v1/profiles/confirmations/idp", op{Summary: "Confirm an application with a signed identity-provider assertion",
		Request: "IdPAssertion", Responses: map[int]string{200: "Profile", 422: "problem"}, Tags: citizen}, s.confirmIdP)
	s.handle("GET", "/v1/profiles/confirmations/qualified/:applicationNumber", op{Summary: "The XML confirmation document to sign with a qualified certificate",
		Headers:   map[string]string{ApplicationSecretHeader: "the registration answer's applicationSecret (404 without it or with another, as for an unknown number)"},
		Responses: map[int]string{200: "binary", 404: "problem"}, Tags: citizen}, s.qualifiedDocument)
	s.handle("POST", "/v1/profiles/confirmations/qualified/:applicationNumber", op{Summary: "Confirm with the confirmation document signed with a qualified certificate (XAdES)",
		Request: "document", Responses: map[int]string{200: "Profile", 422: "problem"}, Tags: citizen}, s.confirmQualified)
	s.recoveryRoutes()
}

func (s *Server) register(c *gin.Context) {
	var b registerBody
	if err := bindJSON(c, 64<<10, &b); err != nil {
		writeProblem(c, err)
		return
	}
	// per client address, whatever the data (a flood of registrations is a flood of messages)
	if !s.limitAddress(c, profile.ActionRegister) {
		return
	}
	reg, err := s.cfg.Profiles.Register(c.Request.Context(), profile.Application{Login: b.Login, Password: b.Password,
		FirstName: b.FirstName, SecondName: b.SecondName, Surname: b.Surname, PESEL: b.PESEL, Email: b.Email, Phone: b.Phone,
		CodeChannel: profile.Channel(b.CodeChannel)})
	if err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, registrationJSON{ID: reg.ID, ApplicationNumber: reg.ApplicationNumber, Status: string(reg.Status),
		ApplicationSecret: reg.Secret})
}

func (s *Server) confirmContact(c *gin.Context) {
	var b codeBody
	if err := bindJSON(c, 4<<10, &b); err != nil {
		writeProblem(c, err)
		return
	}
	if err := s.cfg.Profiles.ConfirmContact(c.Request.Context(), c.Param("id"), b.Code); err != nil {
		s.countCodeFailure(err)
		writeProblem(c, profileProblem(err))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) resendContact(c *gin.Context) {
	if !s.limitAddress(c, profile.ActionResend) {
		return
	}
	if err := s.cfg.Profiles.ResendContactCode(c.Request.Context(), c.Param("id")); err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.Status(http.StatusAccepted)
}

func (s *Server) login(c *gin.Context) {
	var b loginBody
	if err := bindJSON(c, 4<<10, &b); err != nil {
		writeProblem(c, err)
		return
	}
	// failed logins are throttled by the profile service per (address, login), per address over all logins
	// (password spraying) and per login, in the store: the pages share the counts
	sess, err := s.cfg.Profiles.LoginFrom(c.Request.Context(), clientAddr(c), b.Login, b.Password)
	if err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: sess.Token, Path: "/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode, Expires: sess.Expires})
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, sessionJSON{Token: sess.Token, Role: string(sess.Role), Expires: sess.Expires})
}

func (s *Server) logout(c *gin.Context) {
	tok := bearer(c)
	if tok == "" {
		if ck, err := c.Cookie(SessionCookie); err == nil {
			tok = ck
		}
	}
	if tok == "" {
		writeProblem(c, errUnauthorized)
		return
	}
	if err := s.cfg.Profiles.Logout(c.Request.Context(), tok); err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	c.Status(http.StatusNoContent)
}

func (s *Server) me(c *gin.Context) {
	p, err := s.cfg.Profiles.Get(c.Request.Context(), sessionOf(c).SubjectID)
	if err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, toProfileJSON(p))
}

func (s *Server) extensionCode(c *gin.Context) {
	ci, err := s.cfg.Profiles.RequestExtensionCode(c.Request.Context(), sessionOf(c).SubjectID)
	if err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.JSON(http.StatusAccepted, codeInfoJSON{Expires: ci.Expires, Channel: string(ci.Channel)})
}

func (s *Server) extend(c *gin.Context) {
	var b codeBody
	if err := bindJSON(c, 4<<10, &b); err != nil {
		writeProblem(c, err)
		return
	}
	p, err := s.cfg.Profiles.Extend(c.Request.Context(), sessionOf(c).SubjectID, b.Code)
	if err != nil {
		s.countCodeFailure(err)
		writeProblem(c, profileProblem(err))
		return
	}
	c.JSON(http.StatusOK, toProfileJSON(p))
}

func (s *Server) revoke(c *gin.Context) {
	if err := s.cfg.Profiles.Revoke(c.Request.Context(), sessionOf(c).SubjectID); err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) application(c *gin.Context) {
	p, err := s.cfg.Profiles.GetByApplicationNumber(c.Request.Context(), c.Param("applicationNumber"))
	if err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, toProfileJSON(p))
}

type identityDocumentBody struct {
	DocumentType   string `json:"documentType"`
	DocumentNumber string `json:"documentNumber"`
}

func (s *Server) officerConfirm(video bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		var b identityDocumentBody
		if err := bindJSON(c, 4<<10, &b); err != nil {
			writeProblem(c, err)
			return
		}
		doc := profile.IdentityDocument{Type: profile.DocumentType(b.DocumentType), Number: b.DocumentNumber}
		confirm := s.cfg.Profiles.ConfirmInPerson
		if video {
			confirm = s.cfg.Profiles.ConfirmByVideoCall
		}
		p, err := confirm(c.Request.Context(), sessionOf(c).SubjectID, c.Param("applicationNumber"), doc)
		if err != nil {
			writeProblem(c, profileProblem(err))
			return
		}
		c.JSON(http.StatusOK, toProfileJSON(p))
	}
}

func (s *Server) confirmIdP(c *gin.Context) {
	var b struct {
		Assertion string `json:"assertion"`
	}
	if err := bindJSON(c, 64<<10, &b); err != nil {
		writeProblem(c, err)
		return
	}
	p, err := s.cfg.Profiles.ConfirmWithIdP(c.Request.Context(), b.Assertion)
	if err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.JSON(http.StatusOK, toProfileJSON(p))
}

func (s *Server) qualifiedDocument(c *gin.Context) {
	doc, err := s.cfg.Profiles.ConfirmationDocument(c.Request.Context(), c.Param("applicationNumber"),
		c.GetHeader(ApplicationSecretHeader))
	if err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/xml", doc)
}

func (s *Server) confirmQualified(c *gin.Context) {
	data, err := readDocumentBody(c, 1<<20)
	if err != nil {
		writeProblem(c, err)
		return
	}
	p, err := s.cfg.Profiles.ConfirmWithQualifiedSignature(c.Request.Context(), c.Param("applicationNumber"), data)
	if err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.JSON(http.StatusOK, toProfileJSON(p))
}

func (s *Server) countCodeFailure(err error) {
	switch {
	case err == nil:
	case isErr(err, profile.ErrCodeKilled):
		s.metrics.codeFails.WithLabelValues("killed").Inc()
	case isErr(err, profile.ErrCodeExpired):
		s.metrics.codeFails.WithLabelValues("expired").Inc()
	case isErr(err, profile.ErrInvalidCode):
		s.metrics.codeFails.WithLabelValues("wrong").Inc()
	case isErr(err, profile.ErrThrottled):
		s.metrics.codeFails.WithLabelValues("throttled").Inc()
	}
}
