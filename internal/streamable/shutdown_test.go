package streamable

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
	"github.com/mcpgate/mcpgate/internal/session"
)

// TestShutdownDrains: GET streams end at once, new work is refused with
// 503, a running call finishes and delivers its response, then every
// session is detached.
func TestShutdownDrains(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize(v1125, "")
	g := e.open(req{method: "GET", session: sid, version: v1125})
	g.next()
	a := e.open(req{session: sid, version: v1125, body: gateBody(1, "A")})
	a.next()
	a.message()

	done := make(chan error, 1)
	go func() { done <- e.Hub.Shutdown(t.Context()) }()
	g.end()

	e.run([]step{
		{name: "new request", req: req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":2,"method":"echo"}`},
			wantStatus: 503, wantErrCode: -32603, wantHeader: map[string]string{"Retry-After": "5"}},
		{name: "new GET", req: req{method: "GET", session: sid, version: v1125}, wantStatus: 503},
		{name: "initialize", req: req{body: initBody(v1125)}, wantStatus: 503},
		{name: "notification still taken", req: req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","method":"notifications/progress"}`}, wantStatus: 202},
	})
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with a call running", err)
	default:
	}
	e.Core.Release("A")
	_, data := a.message()
	wantJSON(t, "drained response", data, gateResult(1, "A"))
	a.end()
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if !e.Core.WasDetached(sid) {
		t.Error("session not detached at shutdown")
	}
}

// TestShutdownDeadline: when ctx ends first, running calls are cancelled,
// their streams end, and Shutdown reports the deadline.
func TestShutdownDeadline(t *testing.T) {
	e := newEnv(t, &envConfig{Hub: mcpsession.Options{Heartbeat: 10 * time.Millisecond}})
	sid := e.initialize(v1125, "")
	p := e.open(req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":1,"method":"block"}`})
	p.next() // the call runs: its stream has started
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := e.Hub.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with an expired context: got %v, want context.Canceled", err)
	}
	if _, err := io.Copy(io.Discard, p.resp.Body); err != nil {
		t.Errorf("POST stream did not end cleanly: %v", err)
	}
}

// TestSessionExpiry: an idle session expires: the core forgets it and its ID
// gets 404. A session with a GET stream open stays active (heartbeats
// touch it).
func TestSessionExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core := mcpsessiontest.NewFakeCore()
		var hub *mcpsession.Hub
		mgr := session.NewManager(session.NewMemoryStore(), session.Config{
			IdleTimeout: time.Minute,
			OnExpire:    func(s *session.Session, r session.ExpireReason) { hub.SessionExpired(s, r) },
		})
		defer mgr.Close()
		hub = mcpsession.New(core, mgr, eventlog.NewMemory(eventlog.Limits{}), &mcpsession.Options{Heartbeat: 10 * time.Second})
		h := New(hub, nil)
		defer hub.Shutdown(context.Background())

		serve := func(ctx context.Context, method, sid, body string) *httptest.ResponseRecorder {
			r := httptest.NewRequestWithContext(ctx, method, "/mcp", strings.NewReader(body))
			r.Header.Set("Accept", "application/json, text/event-stream")
			r.Header.Set("Content-Type", "application/json")
			if sid != "" {
				r.Header.Set("Mcp-Session-Id", sid)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		initialize := func() string {
			w := serve(context.Background(), "POST", "", initBody(mcp.Version20250618))
			if w.Code != 200 {
				t.Fatalf("initialize: %d %s", w.Code, w.Body)
			}
			return w.Header().Get("Mcp-Session-Id")
		}
		echo := `{"jsonrpc":"2.0","id":1,"method":"echo"}`

		idle := initialize()
		listening := initialize()
		ctx, stopGET := context.WithCancel(context.Background())
		getDone := make(chan struct{})
		go func() {
			defer close(getDone)
			serve(ctx, "GET", listening, "")
		}()

		time.Sleep(3 * time.Minute)
		synctest.Wait()
		if !core.WasDetached(idle) {
			t.Error("idle session not detached after expiry")
		}
		if w := serve(context.Background(), "POST", idle, echo); w.Code != http.StatusNotFound {
			t.Errorf("expired session: status %d, want 404", w.Code)
		}
		if w := serve(context.Background(), "POST", listening, echo); w.Code != http.StatusOK {
			t.Errorf("session with a GET stream: status %d, want 200", w.Code)
		}

		stopGET()
		<-getDone
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if !core.WasDetached(listening) {
			t.Error("session not detached after its stream closed and it idled")
		}
	})
}
