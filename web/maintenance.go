package web

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/trustsign/trustsign/store"
)

// Maintenance lists the operator's maintenance windows (store.DB satisfies it). During a window, logging in and
// everything that needs a session (the signing page, my profile, the officer's desk) answer 503 with
// Retry-After; registration, the start page and verification keep working.
type Maintenance interface {
	// MaintenanceWindows lists the windows that have not ended at t.
	MaintenanceWindows(ctx context.Context, t time.Time) ([]store.MaintenanceWindow, error)
}

// windowCache keeps the window list for a couple of seconds: it is read on every guarded request.
type windowCache struct {
	mu      sync.Mutex
	at      time.Time
	windows []store.MaintenanceWindow
}

func (s *server) windows(ctx context.Context) []store.MaintenanceWindow {
	if s.cfg.Maintenance == nil {
		return nil
	}
	now := s.cfg.Clock.Now()
	s.wc.mu.Lock()
	defer s.wc.mu.Unlock()
	if !s.wc.at.IsZero() && now.After(s.wc.at) && now.Sub(s.wc.at) < 2*time.Second {
		return s.wc.windows
	}
	ws, err := s.cfg.Maintenance.MaintenanceWindows(ctx, now)
	if err != nil {
		// the pages stay open when the list cannot be read; the API's check is the one that guards signing
		s.log.Error("maintenance windows", "error", err.Error())
		return nil
	}
	s.wc.at, s.wc.windows = now, ws
	return ws
}

// activeWindow is the window in force now, if any.
func (s *server) activeWindow(ctx context.Context) (store.MaintenanceWindow, bool) {
	now := s.cfg.Clock.Now()
	for _, w := range s.windows(ctx) {
		if !now.Before(w.Start) && now.Before(w.End) {
			return w, true
		}
	}
	return store.MaintenanceWindow{}, false
}

// upcomingWindows are the windows that start within two weeks (announced on the start page).
func (s *server) upcomingWindows(ctx context.Context) []store.MaintenanceWindow {
	now := s.cfg.Clock.Now()
	var out []store.MaintenanceWindow
	for _, w := range s.windows(ctx) {
		if w.End.After(now) && w.Start.Before(now.Add(14*24*time.Hour)) {
			out = append(out, w)
		}
	}
	return out
}

// unlessMaintenance answers 503 while a window is on.
func (s *server) unlessMaintenance(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		win, on := s.activeWindow(r.Context())
		if !on {
			h(w, r)
			return
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(win.End.Sub(s.cfg.Clock.Now()).Seconds())+1))
		v := s.view(w, r, "title.maintenance")
		v.Data = map[string]any{"Window": win}
		s.render(w, http.StatusServiceUnavailable, "maintenance", v)
	}
}
