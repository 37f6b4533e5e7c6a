package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mcpgate/mcpgate/internal/admin"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/httpkit"
)

// adminRoutes builds the admin listener's handler (nil when the admin
// listener is off): the edge chain, a Host/Origin guard for its own
// address, and the admin token in front of stats and broadcast.
func (g *Gateway) adminRoutes() (http.Handler, error) {
	a := &g.cfg.Admin
	if !a.Enabled() {
		return nil, nil
	}
	if a.Digest.IsZero() {
		return nil, fmt.Errorf("admin token %s is not resolved (config.Resolve reads it)", a.Token)
	}
	h, err := admin.New(g.hub, admin.Options{TokenDigest: a.Digest, Logger: g.log.With("component", "admin"), MRTR: func() any { return g.relay.MRTRStats() }, PProf: a.PProf})
	if err != nil {
		return nil, fmt.Errorf("building admin handler: %w", err)
	}
	guard, err := httpkit.NewGuard(httpkit.GuardOptions{
		Loopback: config.IsLoopbackListen(a.Listen),
		Logger:   g.log.With("component", "admin-guard"),
	})
	if err != nil {
		return nil, fmt.Errorf("building admin host guard: %w", err)
	}
	edge := httpkit.Chain(
		httpkit.Edge(&httpkit.EdgeOptions{Log: g.log.With("component", "admin-http")}),
		guard.Handler,
	)
	return edge(h), nil
}

// AdminHandler is the admin listener's handler, or nil when it is off.
func (g *Gateway) AdminHandler() http.Handler { return g.admin }

// adminServer is the admin listener while it serves.
type adminServer struct {
	srv    *http.Server
	served chan error // receives Serve's result
}

// serveAdmin opens the admin listener, if it is on.
func (g *Gateway) serveAdmin(log *slog.Logger) (*adminServer, error) {
	if g.admin == nil {
		return nil, nil
	}
	ln, err := listen(g.cfg.Admin.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s (admin): %w", g.cfg.Admin.Listen, err)
	}
	writeTimeout := 30 * time.Second
	if g.cfg.Admin.PProf {
		// net/http/pprof refuses a profile as long as the write timeout;
		// the default CPU profile takes 30s.
		writeTimeout = 150 * time.Second
	}
	a := &adminServer{
		srv: &http.Server{
			Handler:           g.admin,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
		served: make(chan error, 1),
	}
	go func() { a.served <- a.srv.Serve(ln) }()
	log.Info("admin listener serving", "addr", ln.Addr().String())
	if g.opts.OnAdminListen != nil {
		g.opts.OnAdminListen("http://" + ln.Addr().String())
	}
	return a, nil
}

// shutdown stops the admin listener within ctx and waits for its server.
func (a *adminServer) shutdown(ctx context.Context) error {
	if a == nil {
		return nil
	}
	err := a.srv.Shutdown(ctx)
	if err != nil {
		a.srv.Close()
	}
	if serr := <-a.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// listen opens a TCP listener with short keep-alive probes, so that a
// peer that vanished without closing its connection (an SSE client whose
// network went away) is noticed within about half a minute and its stream
// and session are freed.
func listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3,
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}
