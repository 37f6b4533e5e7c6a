package httpup_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/httpup"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
	"github.com/mcpgate/mcpgate/internal/upstream/remote/remotetest"
)

// waitState polls the connection's state, which it reports no event for.
func waitState(t *testing.T, c upstream.Conn, want upstream.State) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.State() != want {
		if time.Now().After(deadline) {
			t.Fatalf("state = %s, want %s", c.State(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestUpstreamDeathAndReturn(t *testing.T) {
	s := remotetest.SDKServer()
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	h := remotetest.NewHandler()
	c := newConn(t, srv.URL, h, nil)
	h.WaitReady(t)
	wantText(t, callTool(t, c, "echo", `{"message":"before"}`), "echo: before")

	// The server goes away: the GET stream breaks, calls fail at once.
	srv.Config.Close() // listener and connections, at once
	waitState(t, c, upstream.StateRestarting)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Call(ctx, "tools/list", nil); err == nil {
		t.Fatal("call to a dead upstream succeeded")
	}
	if st := c.Status(); st.Restarts == 0 || st.LastError == "" || st.Transport != "http" {
		t.Errorf("Status = %+v, want restarts, a last error and transport http", st)
	} else if strings.Contains(st.LastError, srv.URL) {
		t.Errorf("LastError shows the upstream URL: %q", st.LastError)
	}

	// It comes back on the same address: a new session, reported ready.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	srv2 := &httptest.Server{Listener: ln, Config: &http.Server{Handler: handler}}
	srv2.Start()
	defer srv2.Close()
	h.WaitReady(t) // a new session on the server that came back
	wantText(t, callTool(t, c, "echo", `{"message":"after"}`), "echo: after")
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil { // before srv2 closes: its GET stream is ours
		t.Fatal(err)
	}
}

// scripted is an upstream written by hand, for what the SDK server does
// not do: oversized answers, refusing GET, counting cancellations.
func scripted(t *testing.T, onCall func(w http.ResponseWriter, id json.RawMessage)) (*httptest.Server, chan string) {
	t.Helper()
	return scriptedReq(t, func(w http.ResponseWriter, _ *http.Request, id json.RawMessage) { onCall(w, id) })
}

// scriptedReq is scripted with the request passed to onCall.
func scriptedReq(t *testing.T, onCall func(w http.ResponseWriter, r *http.Request, id json.RawMessage)) (*httptest.Server, chan string) {
	t.Helper()
	notes := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		switch {
		case m.Method == "initialize":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Mcp-Session-Id", "s-1")
			w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"scripted","version":"1"}}}`))
		case m.ID == nil:
			notes <- m.Method + " " + string(m.Params) + " v=" + r.Header.Get("Mcp-Protocol-Version")
			w.WriteHeader(http.StatusAccepted)
		default:
			onCall(w, r, m.ID)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, notes
}

func TestOversizedResponseRefused(t *testing.T) {
	srv, _ := scripted(t, func(w http.ResponseWriter, id json.RawMessage) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"result":{"big":"` + strings.Repeat("x", 4096) + `"}}`))
	})
	c := start(t, remote.Endpoint{Conn: remote.Options{Name: "s"}, URL: srv.URL, MaxMessageSize: 1024})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got := c.Info().ProtocolVersion; got != "2025-06-18" {
		t.Errorf("negotiated %q, want the server's 2025-06-18", got)
	}
	_, err := c.Call(ctx, "tools/list", nil)
	if !errors.Is(err, upstream.ErrUnavailable) || !strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Fatalf("Call = %v, want ErrUnavailable for a response over the limit", err)
	}
}

func TestCancellationReachesServer(t *testing.T) {
	release := make(chan struct{})
	srv, notes := scripted(t, func(w http.ResponseWriter, id json.RawMessage) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("id: e1\ndata: \n\n"))
		w.(http.Flusher).Flush()
		<-release
	})
	defer close(release)
	c := start(t, remote.Endpoint{Conn: remote.Options{Name: "s"}, URL: srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// notifications/initialized already carries the negotiated version
	// [T §Protocol Version Header].
	if n := <-notes; !strings.HasPrefix(n, "notifications/initialized") || !strings.HasSuffix(n, "v=2025-06-18") {
		t.Fatalf("first notification = %q, want notifications/initialized with MCP-Protocol-Version 2025-06-18", n)
	}
	cctx, ccancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer ccancel()
	if _, err := c.Call(cctx, "tools/call", json.RawMessage(`{"name":"slow"}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call = %v, want DeadlineExceeded", err)
	}
	select {
	case n := <-notes:
		if !strings.HasPrefix(n, "notifications/cancelled") || !strings.Contains(n, `"reason":"request timed out"`) {
			t.Errorf("notification = %q, want notifications/cancelled for the timed-out request", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notifications/cancelled reached the server")
	}
}

// TestRedirectNotFollowed: a server that redirects is not followed, so the
// upstream's headers (its credential) never reach the redirect target.
func TestRedirectNotFollowed(t *testing.T) {
	reached := make(chan string, 4)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- r.Header.Get("Authorization")
	}))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer srv.Close()
	c, err := httpup.New(remote.Endpoint{
		Conn:   remote.Options{Name: "r", InitTimeout: time.Second},
		URL:    srv.URL,
		Header: http.Header{"Authorization": {"Bearer upstream-secret"}},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	defer c.Close(ctx)
	if err := c.Start(ctx); err == nil || !strings.Contains(err.Error(), "HTTP 307") {
		t.Fatalf("Start = %v, want the redirect refused", err)
	}
	select {
	case got := <-reached:
		t.Fatalf("the redirect was followed (Authorization %q)", got)
	default:
	}
}

// start builds a Streamable HTTP upstream for the test and starts it.
func start(t testing.TB, e remote.Endpoint) *remote.Conn {
	t.Helper()
	c, err := httpup.New(e, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return remotetest.Start(t, c)
}
