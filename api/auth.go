package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/profile"
)

// SessionCookie is the name of the session cookie (set by POST /v1/sessions and by the web pages).
const SessionCookie = "trustsign_session"

const (
	ctxClient  = "client"
	ctxSession = "session"
)

// Profiles is what the API needs from the profile service (*profile.Service).
type Profiles interface {
	Register(ctx context.Context, a profile.Application) (profile.Registration, error)
	ConfirmContact(ctx context.Context, profileID, code string) error
	ResendContactCode(ctx context.Context, profileID string) error
	LoginFrom(ctx context.Context, address, login, password string) (profile.Session, error)
	RequestPasswordReset(ctx context.Context, identifier string) error
	ResetPassword(ctx context.Context, identifier, code, newPassword string) error
	Authenticate(ctx context.Context, token string) (profile.Session, error)
	Logout(ctx context.Context, token string) error
	Get(ctx context.Context, profileID string) (profile.Profile, error)
	GetByApplicationNumber(ctx context.Context, applicationNumber string) (profile.Profile, error)
	ConfirmInPerson(ctx context.Context, officerID, applicationNumber string, doc profile.IdentityDocument) (profile.Profile, error)
	ConfirmByVideoCall(ctx context.Context, officerID, applicationNumber string, doc profile.IdentityDocument) (profile.Profile, error)
	ConfirmWithIdP(ctx context.Context, assertion string) (profile.Profile, error)
	ConfirmationDocument(ctx context.Context, applicationNumber, secret string) ([]byte, error)
	AllowFrom(ctx context.Context, action profile.Action, addr string) error
	ConfirmWithQualifiedSignature(ctx context.Context, applicationNumber string, signed []byte) (profile.Profile, error)
	RequestExtensionCode(ctx context.Context, profileID string) (profile.CodeInfo, error)
	Extend(ctx context.Context, profileID, code string) (profile.Profile, error)
	Revoke(ctx context.Context, profileID string) error
	AuthenticateClient(ctx context.Context, key string) (profile.Client, error)
	LookupByPESEL(ctx context.Context, client profile.Client, pesel string) (profile.LookupResult, error)
	Officer(ctx context.Context, id string) (profile.Officer, error)
}

var errBusy = newProblem(429, "busy", "The service is busy", "Too many passwords are being checked at once; try again in a moment.")

// profileProblem adds the field and the retry time to profile errors.
func profileProblem(err error) error {
	var ve *profile.ValidationError
	if errors.As(err, &ve) {
		return errUnprocessable(ve.Field + ": " + ve.Reason)
	}
	var te *profile.ThrottledError
	if errors.As(err, &te) {
		p := *errTooManyRequest
		if errors.Is(err, profile.ErrBusy) {
			p = *errBusy
		}
		p.p.RetryAfter = int(te.RetryAfter.Round(time.Second).Seconds())
		if p.p.RetryAfter < 1 {
			p.p.RetryAfter = 1
		}
		p.cause = err
		return &p
	}
	return err
}

func bearer(c *gin.Context) string {
	h := c.GetHeader("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// client authenticates an integrator by its API key and checks the scope.
func (s *Server) client(scope profile.Scope) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := bearer(c)
		if key == "" || s.cfg.Profiles == nil {
			c.Header("WWW-Authenticate", `Bearer realm="trustsign"`)
			writeProblem(c, errUnauthorized)
			return
		}
		cl, err := s.cfg.Profiles.AuthenticateClient(c.Request.Context(), key)
		if err != nil && !credentialRefused(err) {
			writeProblem(c, err) // the key could not be checked (the store is unreachable): not the client's fault
			return
		}
		if err != nil {
			c.Header("WWW-Authenticate", `Bearer realm="trustsign", error="invalid_token"`)
			writeProblem(c, newProblem(401, "unauthorized", "Authentication required", "Unknown or disabled API key."))
			return
		}
		if scope != "" && !cl.Has(scope) {
			writeProblem(c, newProblem(403, "missing-scope", "Not allowed", "The API key lacks the scope "+string(scope)+"."))
			return
		}
		c.Set(ctxClient, cl)
		c.Next()
	}
}

// credentialRefused tells an unknown, expired or disabled credential (401) from a failure to check it (the store
// unreachable: 503 through the error table, so that a client keeps a key or session that is fine).
func credentialRefused(err error) bool {
	return errors.Is(err, profile.ErrUnauthenticated) || errors.Is(err, profile.ErrForbidden)
}

// hasScope reports whether the request carries a valid integrator key with the scope (without failing it).
func (s *Server) hasScope(c *gin.Context, scope string) bool {
	key := bearer(c)
	if key == "" || s.cfg.Profiles == nil {
		return false
	}
	cl, err := s.cfg.Profiles.AuthenticateClient(c.Request.Context(), key)
	return err == nil && cl.Has(profile.Scope(scope))
}

// session authenticates a holder or officer by session token (Bearer header or the session cookie).
func (s *Server) session(role profile.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		tok := bearer(c)
		if tok == "" {
			if ck, err := c.Cookie(SessionCookie); err == nil {
				tok = ck
			}
		}
		if tok == "" || s.cfg.Profiles == nil {
			writeProblem(c, errUnauthorized)
			return
		}
		sess, err := s.cfg.Profiles.Authenticate(c.Request.Context(), tok)
		if err != nil && !credentialRefused(err) {
			writeProblem(c, err)
			return
		}
		if err != nil {
			writeProblem(c, errUnauthorized)
			return
		}
		if sess.Role != role {
			writeProblem(c, errForbidden)
			return
		}
		sess.Token = tok
		c.Set(ctxSession, sess)
		c.Next()
	}
}

func sessionOf(c *gin.Context) profile.Session { return c.MustGet(ctxSession).(profile.Session) }
func clientOf(c *gin.Context) profile.Client   { return c.MustGet(ctxClient).(profile.Client) }

// bindJSON decodes a JSON body strictly (unknown fields refused) within the size limit.
func bindJSON(c *gin.Context, limit int64, v any) error {
	ct := c.GetHeader("Content-Type")
	if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return errUnsupported
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	dec := newDecoder(c.Request.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return errBadRequest("malformed JSON body: " + jsonErrorText(err))
	}
	if dec.More() {
		return errBadRequest("malformed JSON body: more than one value")
	}
	return nil
}
