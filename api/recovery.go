package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Password recovery: a code to the profile's confirmed contact channel, then the code and a new password.
// Besides the profile service's code rules, each client address may ask for resetRequestsPerAddress codes and
// make resetConfirmsPerAddress attempts per 15 minutes (message floods, guessing across many profiles).
const (
	resetRequestsPerAddress = 10
	resetConfirmsPerAddress = 20
)

type resetRequestBody struct {
	// Login is the holder's login or PESEL.
	Login string `json:"login"`
}

type resetConfirmBody struct {
	Login    string `json:"login"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

func (s *Server) recoveryRoutes() {
	tags := []string{"sessions"}
	s.handle("POST", "/v1/password-resets", op{Summary: "Ask for a password-reset code (sent to the confirmed contact channel of the profile with this login or PESEL; the answer is the same whether or not there is one)",
		Request: "PasswordResetRequest", Responses: map[int]string{202: "", 400: "problem", 422: "problem", 429: "problem", 503: "problem"}, Tags: tags},
		s.duringMaintenance, s.requestPasswordReset)
	s.handle("POST", "/v1/password-resets/confirm", op{Summary: "Set a new password with the reset code; every session of the profile ends",
		Request: "PasswordReset", Responses: map[int]string{204: "", 400: "problem", 422: "problem", 429: "problem", 503: "problem"}, Tags: tags},
		s.duringMaintenance, s.confirmPasswordReset)
}

func init() {
	schemas["PasswordResetRequest"] = obj(map[string]any{"login": str})
	schemas["PasswordReset"] = obj(map[string]any{"login": str, "code": str, "password": str})
}

// limitAddress counts one event for the client address under what; false (after answering 429) past the limit.
func (s *Server) limitAddress(c *gin.Context, what string, limit int) bool {
	ok, wait := s.limits.allow(what+":"+clientAddr(c), limit, 15*time.Minute)
	if !ok {
		p := *errTooManyRequest
		p.p.RetryAfter = int(wait.Seconds()) + 1
		writeProblem(c, &p)
	}
	return ok
}

func (s *Server) requestPasswordReset(c *gin.Context) {
	var b resetRequestBody
	if err := bindJSON(c, 4<<10, &b); err != nil {
		writeProblem(c, err)
		return
	}
	if !s.limitAddress(c, "reset", resetRequestsPerAddress) {
		return
	}
	if err := s.cfg.Profiles.RequestPasswordReset(c.Request.Context(), b.Login); err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.Status(http.StatusAccepted)
}

func (s *Server) confirmPasswordReset(c *gin.Context) {
	var b resetConfirmBody
	if err := bindJSON(c, 4<<10, &b); err != nil {
		writeProblem(c, err)
		return
	}
	if !s.limitAddress(c, "reset-confirm", resetConfirmsPerAddress) {
		return
	}
	if err := s.cfg.Profiles.ResetPassword(c.Request.Context(), b.Login, b.Code, b.Password); err != nil {
		s.countCodeFailure(err)
		writeProblem(c, profileProblem(err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusNoContent)
}
