package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/profile"
)

type lookupJSON struct {
	Status             string     `json:"status"`
	ProfileID          string     `json:"profileId"`
	Login              string     `json:"login"`
	FirstName          string     `json:"firstName"`
	SecondName         string     `json:"secondName,omitempty"`
	Surname            string     `json:"surname"`
	PESEL              string     `json:"pesel"`
	Email              string     `json:"email"`
	Phone              string     `json:"phone"`
	ConfirmationMethod string     `json:"confirmationMethod"`
	Temporary          bool       `json:"temporary"`
	Created            time.Time  `json:"created"`
	Expires            *time.Time `json:"expires,omitempty"`
}

// Lookups per minute when Config leaves them zero: one integrator key, and one client address (several integrators
// may share an address behind a proxy).
const (
	defaultLookupsPerClient  = 60
	defaultLookupsPerAddress = 120
)

func (s *Server) lookupRoutes() {
	s.handle("POST", "/v1/profiles/lookup", op{Summary: "Look a trusted profile up by PESEL (in the body, never in a URL); every call is audited; rate-limited per integrator key and per address",
		Auth: "client:lookup", Request: "Lookup", Responses: map[int]string{200: "LookupResult", 401: "problem", 403: "problem", 404: "problem", 422: "problem", 429: "problem"},
		Tags: []string{"integrators"}}, s.lookupAddressLimit, s.client(profile.ScopeLookup), s.lookup)
}

// lookupAddressLimit counts every lookup from a client address, with a valid key or not, before the key is checked:
// PESELs cannot be enumerated from one address by spreading them over keys, nor keys guessed at full speed.
func (s *Server) lookupAddressLimit(c *gin.Context) {
	if s.lookupAllowed(c, "lookup-addr:"+clientAddr(c), s.cfg.LookupsPerAddress, defaultLookupsPerAddress) {
		c.Next()
	}
}

// lookupAllowed counts one lookup for key within limit per minute (def when limit is 0) and answers 429 with
// Retry-After beyond it (see Server.allowed).
func (s *Server) lookupAllowed(c *gin.Context, key string, limit, def int) bool {
	if limit <= 0 {
		limit = def
	}
	return s.allowed(c, key, limit, time.Minute)
}

func (s *Server) lookup(c *gin.Context) {
	if !s.lookupAllowed(c, "lookup-client:"+clientOf(c).ID, s.cfg.LookupsPerClient, defaultLookupsPerClient) {
		return
	}
	var b struct {
		PESEL string `json:"pesel"`
	}
	if err := bindJSON(c, 4<<10, &b); err != nil {
		writeProblem(c, err)
		return
	}
	r, err := s.cfg.Profiles.LookupByPESEL(c.Request.Context(), clientOf(c), b.PESEL)
	if err != nil {
		writeProblem(c, profileProblem(err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, lookupJSON{Status: string(r.Status), ProfileID: r.ProfileID, Login: r.Login, FirstName: r.FirstName,
		SecondName: r.SecondName, Surname: r.Surname, PESEL: r.PESEL, Email: r.Email, Phone: r.Phone,
		ConfirmationMethod: string(r.ConfirmationMethod), Temporary: r.Temporary, Created: r.Created, Expires: r.Expires})
}
