package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trustsign/trustsign/store"
)

// Maintenance lists maintenance windows (store.DB).
type Maintenance interface {
	// MaintenanceWindows lists the windows that have not ended at t.
	MaintenanceWindows(ctx context.Context, t time.Time) ([]store.MaintenanceWindow, error)
}

type windowJSON struct {
	ID      string    `json:"id"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Message string    `json:"message"`
	Active  bool      `json:"active"`
}

func (s *Server) maintenanceRoutes() {
	s.handle("GET", "/v1/maintenance", op{Summary: "Current and upcoming maintenance windows (login and signing are unavailable during one)",
		Responses: map[int]string{200: "MaintenanceWindows"}, Tags: []string{"operations"}}, s.listMaintenance)
}

// windowCache keeps the window list for a few seconds: the check runs on every login and signing request.
type windowCache struct {
	mu      sync.Mutex
	at      time.Time
	windows []store.MaintenanceWindow
}

func (s *Server) windows(ctx context.Context) ([]store.MaintenanceWindow, error) {
	if s.cfg.Maintenance == nil {
		return nil, nil
	}
	now := s.cfg.Clock.Now()
	s.wc.mu.Lock()
	defer s.wc.mu.Unlock()
	if !s.wc.at.IsZero() && now.Sub(s.wc.at) < 2*time.Second && now.After(s.wc.at) {
		return s.wc.windows, nil
	}
	ws, err := s.cfg.Maintenance.MaintenanceWindows(ctx, now)
	if err != nil {
		return nil, err
	}
	s.wc.at, s.wc.windows = now, ws
	return ws, nil
}

func (s *Server) listMaintenance(c *gin.Context) {
	ws, err := s.windows(c.Request.Context())
	if err != nil {
		writeProblem(c, err)
		return
	}
	now := s.cfg.Clock.Now()
	out := []windowJSON{}
	for _, w := range ws {
		if !w.End.After(now) {
			continue
		}
		out = append(out, windowJSON{ID: w.ID, Start: w.Start, End: w.End, Message: w.Message, Active: !now.Before(w.Start)})
	}
	c.JSON(http.StatusOK, gin.H{"windows": out, "now": now})
}

// duringMaintenance answers 503 with Retry-After on login and signing routes while a window is on.
func (s *Server) duringMaintenance(c *gin.Context) {
	ws, err := s.windows(c.Request.Context())
	if err != nil {
		writeProblem(c, err)
		return
	}
	now := s.cfg.Clock.Now()
	for _, w := range ws {
		if !now.Before(w.Start) && now.Before(w.End) {
			p := newProblem(http.StatusServiceUnavailable, "maintenance", "Service under maintenance",
				"Login and signing are unavailable until "+w.End.UTC().Format(time.RFC3339)+". Verification keeps working.")
			p.p.RetryAfter = int(w.End.Sub(now).Seconds()) + 1
			writeProblem(c, p)
			return
		}
	}
	c.Next()
}
