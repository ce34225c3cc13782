package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/profile"
)

// Password recovery: a code to the profile's confirmed contact channel, then the code and a new password.
// Besides the profile service's code rules, each client address may ask for a few codes and make a few attempts
// (profile.RecoveryOptions: message floods, guessing across many profiles), counted in the store by the profile
// service, so the API and the pages share one count.

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

// limitAddress counts one action for the client address; false (after answering 429) past its limit.
func (s *Server) limitAddress(c *gin.Context, action profile.Action) bool {
	if err := s.cfg.Profiles.AllowFrom(c.Request.Context(), action, clientAddr(c)); err != nil {
		writeProblem(c, profileProblem(err))
		return false
	}
	return true
}

func (s *Server) requestPasswordReset(c *gin.Context) {
	var b resetRequestBody
	if err := bindJSON(c, 4<<10, &b); err != nil {
		writeProblem(c, err)
		return
	}
	if !s.limitAddress(c, profile.ActionResetRequest) {
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
	if !s.limitAddress(c, profile.ActionResetConfirm) {
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
