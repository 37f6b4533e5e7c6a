package mcpsession_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
	"github.com/mcpgate/mcpgate/internal/ssetransport"
	"github.com/mcpgate/mcpgate/internal/streamable"
)

// both is one hub serving both transports, as the gateway mounts them.
type both struct {
	t      *testing.T
	hub    *mcpsession.Hub
	srv    *httptest.Server
	writes *atomic.Int64 // writes to the server's connections
}

func newBoth(t *testing.T) *both { return newBothWith(t, nil, false) }

// newBothWith is newBoth with hub options, over HTTP/2 (TLS) when h2 is
// set.
func newBothWith(t *testing.T, opts *mcpsession.Options, h2 bool) *both {
	t.Helper()
	core := mcpsessiontest.NewFakeCore()
	var hub *mcpsession.Hub
	mgr := session.NewManager(session.NewMemoryStore(), session.Config{
		OnExpire: func(s *session.Session, r session.ExpireReason) { hub.SessionExpired(s, r) },
	})
	hub = mcpsession.New(core, mgr, eventlog.NewMemory(eventlog.Limits{}), opts)
	legacy := ssetransport.New(hub, nil)
	mux := http.NewServeMux()
	mux.Handle("/mcp", streamable.New(hub, nil))
	mux.Handle("/sse", legacy.Stream())
	mux.Handle("/messages", legacy.Messages())
	// X-Test-User and X-Test-Role authenticate.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-Test-User"); u != "" {
			p := principal.Principal{Issuer: "test", Subject: u, Name: u, Role: r.Header.Get("X-Test-Role")}
			r = r.WithContext(principal.NewContext(r.Context(), p))
		}
		mux.ServeHTTP(w, r)
	}))
	writes := new(atomic.Int64)
	srv.Listener = countingListener{srv.Listener, writes}
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(mgr.Close)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &both{t: t, hub: hub, srv: srv, writes: writes}
}

// countingListener counts the writes to the connections it accepts, those
// hijacked by parked streams included.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func (b *both) do(method, path string, hdr map[string]string, body string) *http.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.t.Context(), 10*time.Second)
	b.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, method, b.srv.URL+path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.srv.Client().Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// client is an SSE stream of either transport.
type client struct {
	t        *testing.T
	r        *ssetest.Reader
	body     io.Closer
	endpoint string // a legacy stream's endpoint event
}

func (c *client) message() string {
	c.t.Helper()
	for {
		f, err := c.r.Next()
		if err != nil {
			c.t.Fatalf("reading SSE: %v", err)
		}
		if f.Event == "message" && f.Data != "" {
			return f.Data
		}
	}
}

const initParams = `{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"t","version":"1"}}`

func initBody(v string) string {
	return `{"jsonrpc":"2.0","id":0,"method":"initialize","params":` + strings.Replace(initParams, "%q", `"`+v+`"`, 1) + `}`
}

// legacy opens GET /sse for user and initializes the session unless open
// is set.
func (b *both) legacy(user, role string, open bool) *client {
	b.t.Helper()
	hdr := map[string]string{"Accept": "text/event-stream", "X-Test-User": user, "X-Test-Role": role}
	resp := b.do("GET", "/sse", hdr, "")
	c := &client{t: b.t, r: ssetest.NewReader(resp.Body), body: resp.Body}
	f, err := c.r.Next()
	if err != nil || f.Event != "endpoint" {
		b.t.Fatalf("endpoint event: %+v %v", f, err)
	}
	c.endpoint = f.Data
	if open {
		return c
	}
	hdr = map[string]string{"Content-Type": "application/json", "X-Test-User": user, "X-Test-Role": role}
	if r := b.do("POST", f.Data, hdr, initBody(mcp.Version20241105)); r.StatusCode != http.StatusAccepted {
		b.t.Fatalf("initialize: %d", r.StatusCode)
	}
	c.message()
	return c
}

// streamable initializes a Streamable HTTP session for user and opens its
// GET stream.
func (b *both) streamable(user, role string) *client {
	b.t.Helper()
	hdr := map[string]string{"Accept": "application/json, text/event-stream", "Content-Type": "application/json", "X-Test-User": user, "X-Test-Role": role}
	r := b.do("POST", "/mcp", hdr, initBody(mcp.Version20250618))
	sid := r.Header.Get("Mcp-Session-Id")
	if r.StatusCode != 200 || sid == "" {
		b.t.Fatalf("initialize: %d", r.StatusCode)
	}
	hdr = map[string]string{"Accept": "text/event-stream", "Mcp-Session-Id": sid, "X-Test-User": user, "X-Test-Role": role}
	g := b.do("GET", "/mcp", hdr, "")
	if g.StatusCode != 200 {
		b.t.Fatalf("GET: %d", g.StatusCode)
	}
	return &client{t: b.t, r: ssetest.NewReader(g.Body)}
}

// TestBroadcast: one notification reaches the sessions a filter selects,
// on both transports; sessions awaiting initialize are skipped.
func TestBroadcast(t *testing.T) {
	b := newBoth(t)
	alice := b.legacy("alice", "", false)
	bob := b.streamable("bob", "admin")
	carol := b.legacy("carol", "readonly", false)
	b.legacy("dave", "", true) // opened, never initialized

	note := func(text string) *jsonrpc.Message {
		return jsonrpc.NewNotification(mcp.NotificationMessage, jsonrpc.MustRaw(map[string]string{"level": "info", "data": text}))
	}
	tests := []struct {
		name   string
		filter mcpsession.Filter
		want   []*client
	}{
		{"everyone", mcpsession.Filter{}, []*client{alice, bob, carol}},
		{"legacy transport", mcpsession.Filter{Transports: []string{"sse"}}, []*client{alice, carol}},
		{"streamable transport", mcpsession.Filter{Transports: []string{"streamable"}}, []*client{bob}},
		{"by user", mcpsession.Filter{Users: []string{"carol", "bob"}}, []*client{bob, carol}},
		{"role user means no role", mcpsession.Filter{Roles: []string{"user"}}, []*client{alice}},
		{"role and transport", mcpsession.Filter{Roles: []string{"admin", "readonly"}, Transports: []string{"sse"}}, []*client{carol}},
		{"nobody", mcpsession.Filter{Users: []string{"zed"}}, nil},
	}
	for _, tt := range tests {
		msg := note(tt.name)
		res, err := b.hub.Broadcast(t.Context(), msg, tt.filter)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if res.Matched != len(tt.want) || res.Delivered != len(tt.want) || res.Failed != 0 {
			t.Errorf("%s: %+v, want %d delivered", tt.name, res, len(tt.want))
		}
		for _, c := range tt.want {
			if got, want := c.message(), string(jsonrpc.Encode(msg)); got != want {
				t.Errorf("%s: got %s, want %s", tt.name, got, want)
			}
		}
	}
	// Each client got exactly its broadcasts, in order: a last one to
	// everybody comes next on every stream.
	last := note("last")
	if _, err := b.hub.Broadcast(t.Context(), last, mcpsession.Filter{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{alice, bob, carol} {
		if got := c.message(); got != string(jsonrpc.Encode(last)) {
			t.Errorf("after the filtered broadcasts, got %s", got)
		}
	}
	if _, err := b.hub.Broadcast(t.Context(), jsonrpc.NewRequest(json.RawMessage(`1`), "ping", nil), mcpsession.Filter{}); !errors.Is(err, mcpsession.ErrNotNotification) {
		t.Errorf("broadcast of a request: %v, want ErrNotNotification", err)
	}
}

// TestStats: sessions by transport and user, oldest and newest, and what
// was sent, including by sessions that have ended.
func TestStats(t *testing.T) {
	b := newBoth(t)
	if st := b.hub.Stats(); st.Sessions != 0 || st.Oldest != nil || st.Newest != nil {
		t.Fatalf("empty stats: %+v", st)
	}
	b.legacy("alice", "", false)
	b.streamable("alice", "")
	b.streamable("bob", "readonly")
	st := b.hub.Stats()
	if st.Sessions != 3 || st.ByTransport["sse"] != 1 || st.ByTransport["streamable"] != 2 || st.ByUser["alice"] != 2 || st.ByUser["bob"] != 1 {
		t.Errorf("counts: %+v", st)
	}
	if st.Oldest == nil || st.Oldest.Transport != "sse" || st.Oldest.User != "alice" || st.Oldest.Version != mcp.Version20241105 ||
		st.Newest == nil || st.Newest.User != "bob" || st.Newest.Role != "readonly" || st.Oldest.CreatedAt.After(st.Newest.CreatedAt) {
		t.Errorf("oldest %+v, newest %+v", st.Oldest, st.Newest)
	}
	if len(st.Oldest.Session) > 12 {
		t.Errorf("stats show a full session ID: %q", st.Oldest.Session)
	}
	legacy, modern := st.SentByTransport["sse"], st.SentByTransport["streamable"]
	// The legacy session got its initialize response on its stream; the
	// streamable ones as JSON bodies.
	if legacy.Events != 1 || legacy.Bytes == 0 || modern.Events != 2 || modern.Bytes == 0 ||
		st.Sent.Events != 3 || st.Sent.Bytes != legacy.Bytes+modern.Bytes {
		t.Errorf("sent: total %+v, by transport %+v", st.Sent, st.SentByTransport)
	}
	raw, err := json.Marshal(st)
	if err != nil || !strings.Contains(string(raw), `"by_transport"`) {
		t.Errorf("JSON: %s %v", raw, err)
	}
}

// TestAccepts: the Accept rules both transports apply.
func TestAccepts(t *testing.T) {
	tests := []struct {
		values    []string
		json, sse bool
	}{
		{nil, false, false},
		{[]string{"application/json, text/event-stream"}, true, true},
		{[]string{"application/json", "text/event-stream"}, true, true},
		{[]string{"*/*"}, true, true},
		{[]string{"application/*;q=0.5, text/*"}, true, true},
		{[]string{"text/event-stream;q=0, application/json"}, true, false},
		{[]string{"application/json;q=0.000"}, false, false},
		{[]string{"APPLICATION/JSON ; charset=utf-8"}, true, false},
		{[]string{"text/html"}, false, false},
	}
	for _, tt := range tests {
		if j, s := mcpsession.Accepts(tt.values); j != tt.json || s != tt.sse {
			t.Errorf("Accepts(%q) = %v, %v; want %v, %v", tt.values, j, s, tt.json, tt.sse)
		}
	}
}

// TestTransportsKeepTheirSessions: a session belongs to the transport that
// created it; its ID names no session on the other one (404).
func TestTransportsKeepTheirSessions(t *testing.T) {
	b := newBoth(t)
	legacyID := strings.TrimPrefix(b.legacy("alice", "", false).endpoint, "/messages?sessionId=")
	hdr := map[string]string{"Accept": "application/json, text/event-stream", "Content-Type": "application/json", "X-Test-User": "alice"}
	modernID := b.do("POST", "/mcp", hdr, initBody(mcp.Version20250618)).Header.Get("Mcp-Session-Id")
	if legacyID == "" || modernID == "" {
		t.Fatalf("session IDs %q, %q", legacyID, modernID)
	}
	hdr["Mcp-Session-Id"] = legacyID
	if r := b.do("POST", "/mcp", hdr, `{"jsonrpc":"2.0","id":1,"method":"ping"}`); r.StatusCode != http.StatusNotFound {
		t.Errorf("legacy session on /mcp: %d, want 404", r.StatusCode)
	}
	delete(hdr, "Mcp-Session-Id")
	if r := b.do("POST", "/messages?sessionId="+modernID, hdr, `{"jsonrpc":"2.0","id":1,"method":"ping"}`); r.StatusCode != http.StatusNotFound {
		t.Errorf("streamable session on /messages: %d, want 404", r.StatusCode)
	}
}
