package gateway

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

// healthReport is the body of GET /health. It carries no secret: upstream
// statuses hold state, pid, restarts and a sanitised last error, never
// commands, arguments or environments.
type healthReport struct {
	// Status is "ok" when every upstream is ready, "degraded" when some
	// are not, "down" when none is.
	Status    string            `json:"status"`
	Version   string            `json:"version"`
	Uptime    string            `json:"uptime"`
	Sessions  sessionsReport    `json:"sessions"`
	Upstreams []upstream.Status `json:"upstreams"`
	// Warnings lists the ways the configuration weakens the secure
	// defaults (insecure_allow_unprotected_network), as logged at start.
	Warnings []string `json:"warnings,omitempty"`
}

type sessionsReport struct {
	Open  int `json:"open"`
	Limit int `json:"limit"`
}

func (g *Gateway) health(w http.ResponseWriter, r *http.Request) {
	statuses := g.pool.Statuses()
	ready := 0
	for _, s := range statuses {
		if s.State == upstream.StateReady {
			ready++
		}
	}
	rep := healthReport{
		Status:    "ok",
		Version:   g.opts.Version,
		Uptime:    time.Since(g.started).Round(time.Second).String(),
		Upstreams: statuses,
		Warnings:  g.Warnings(),
	}
	switch {
	case len(statuses) > 0 && ready == 0:
		rep.Status = "down"
	case ready < len(statuses):
		rep.Status = "degraded"
	}
	open, err := g.sessions.Count(r.Context())
	if err != nil {
		g.log.Warn("counting sessions", "err", err)
	}
	rep.Sessions = sessionsReport{Open: open, Limit: g.cfg.Sessions.Max}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if rep.Status == "down" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}
