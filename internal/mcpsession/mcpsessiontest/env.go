package mcpsessiontest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpfront"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
)

// EnvOptions configure NewEnv. The zero value is a FakeCore that
// advertises no capabilities, with a new in-memory session store and event
// log at default limits.
type EnvOptions struct {
	// Core answers the hub; nil means a new FakeCore (Env.Core).
	Core mcpsession.Core
	// Hub are the hub's options; the zero value means its defaults.
	Hub mcpsession.Options
	// Limits bound the new event log; unused when Events is set.
	Limits eventlog.Limits
	// Session configures the session manager; NewEnv sets its OnExpire.
	Session session.Config
	// Store is the session store, shared in multi-replica tests; nil means
	// a new in-memory store.
	Store session.Store
	// Events is the event log, shared in multi-replica tests; nil means a
	// new in-memory log with Limits.
	Events eventlog.Log
	// Advertise are the FakeCore's server capabilities. They are set before
	// the server starts: requests from another process carry no
	// happens-before edge the race detector can see.
	Advertise map[string]any
	// Front, if set, serves the handler as the gateway does, through
	// httpfront (every POST and DELETE on its fast lane) with these
	// options, Handler and Fast set by NewEnv; Srv.URL then points at it
	// (Srv still runs, unused, for its client). Nil: net/http alone.
	Front *httpfront.Options
}

// Env is a transport handler over a hub behind a real HTTP server on
// loopback, authenticated by AuthByHeader.
type Env struct {
	Core   *FakeCore // the default core; nil when EnvOptions.Core was set
	Mgr    *session.Manager
	Events eventlog.Log
	Hub    *mcpsession.Hub
	Srv    *httptest.Server
}

// NewEnv builds a hub as opts says, serves handler(hub) and stops it all
// when tb ends: the hub shuts down first (ending its streams), then the
// server closes, then the session sweeper stops.
func NewEnv(tb testing.TB, opts *EnvOptions, handler func(*mcpsession.Hub) http.Handler) *Env {
	tb.Helper()
	if opts == nil {
		opts = &EnvOptions{}
	}
	e := &Env{Events: opts.Events}
	core := opts.Core
	if core == nil {
		e.Core = NewFakeCore()
		e.Core.Advertise = opts.Advertise
		core = e.Core
	}
	if e.Events == nil {
		e.Events = eventlog.NewMemory(opts.Limits)
	}
	store := opts.Store
	if store == nil {
		store = session.NewMemoryStore()
	}
	sc := opts.Session
	sc.OnExpire = func(s *session.Session, r session.ExpireReason) { e.Hub.SessionExpired(s, r) }
	e.Mgr = session.NewManager(store, sc)
	hubOpts := opts.Hub
	e.Hub = mcpsession.New(core, e.Mgr, e.Events, &hubOpts)
	h := AuthByHeader(handler(e.Hub))
	e.Srv = httptest.NewServer(h)
	// Cleanups run last-registered first.
	tb.Cleanup(e.Mgr.Close)
	tb.Cleanup(e.Srv.Close)
	if opts.Front != nil {
		e.Srv.URL = ServeFront(tb, *opts.Front, h)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Hub.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
	})
	return e
}

// ServeFront serves h through httpfront on a loopback listener until tb
// ends, and returns its URL.
func ServeFront(tb testing.TB, o httpfront.Options, h http.Handler) string {
	tb.Helper()
	o.Handler = h
	o.Fast = func(method, _ []byte) bool {
		return string(method) == http.MethodPost || string(method) == http.MethodDelete
	}
	front := httpfront.New(&o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- front.Serve(ln) }()
	tb.Cleanup(func() {
		front.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("httpfront Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// UserHeader names the principal of a test request.
const UserHeader = "X-Test-User"

// AuthByHeader authenticates a request as the principal named by its
// UserHeader (absent: anonymous), issuer "test".
func AuthByHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get(UserHeader); u != "" {
			r = r.WithContext(principal.NewContext(r.Context(), principal.Principal{Issuer: "test", Subject: u, Name: u}))
		}
		next.ServeHTTP(w, r)
	})
}
