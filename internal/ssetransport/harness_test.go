package ssetransport

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := mcpsessiontest.CheckLeaks("internal/ssetransport.(*", "internal/mcpsession.(*", "internal/eventlog.(*Memory).Wait"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// env is a Handler behind a real HTTP server on loopback, with a fake core.
type env struct {
	t      *testing.T
	core   *mcpsessiontest.FakeCore
	mgr    *session.Manager
	events eventlog.Log
	hub    *mcpsession.Hub
	h      *Handler
	srv    *httptest.Server
}

type envConfig struct {
	hub     mcpsession.Options
	opts    Options
	limits  eventlog.Limits
	session session.Config
	store   session.Store // shared store for multi-replica tests; nil: a new one
	// advertise are the fake core's server capabilities (set before the
	// server starts: requests from another process carry no happens-before
	// edge the race detector can see).
	advertise map[string]any
	events    eventlog.Log // shared log for multi-replica tests; nil: a new one
}

func newEnv(t *testing.T, cfg *envConfig) *env {
	t.Helper()
	if cfg == nil {
		cfg = &envConfig{}
	}
	e := &env{t: t, core: mcpsessiontest.NewFakeCore(), events: cfg.events}
	e.core.Advertise = cfg.advertise
	if e.events == nil {
		e.events = eventlog.NewMemory(cfg.limits)
	}
	store := cfg.store
	if store == nil {
		store = session.NewMemoryStore()
	}
	sc := cfg.session
	sc.OnExpire = func(s *session.Session, r session.ExpireReason) { e.hub.SessionExpired(s, r) }
	e.mgr = session.NewManager(store, sc)
	hubOpts, opts := cfg.hub, cfg.opts
	e.hub = mcpsession.New(e.core, e.mgr, e.events, &hubOpts)
	e.h = New(e.hub, &opts)
	mux := http.NewServeMux()
	mux.Handle("/sse", e.h.Stream())
	mux.Handle("/messages", e.h.Messages())
	e.srv = httptest.NewServer(testPrincipal(mux))
	// Cleanups run last-registered first: Shutdown ends the streams, then
	// the server can close, then the sweeper stops.
	t.Cleanup(e.mgr.Close)
	t.Cleanup(e.srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.hub.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return e
}

// testPrincipal authenticates by the X-Test-User header (absent: anonymous).
func testPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-Test-User"); u != "" {
			r = r.WithContext(principal.NewContext(r.Context(), principal.Principal{Issuer: "test", Subject: u, Name: u}))
		}
		next.ServeHTTP(w, r)
	})
}

// stream is an open GET /sse, read frame by frame.
type stream struct {
	t        *testing.T
	resp     *http.Response
	r        *ssetest.Reader
	cancel   context.CancelFunc
	endpoint string // the endpoint event's data
	session  string // its sessionId
}

// open connects to GET /sse as user ("" anonymous) and reads the endpoint
// event, which must come first.
func (e *env) open(user string) *stream {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 20*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/sse", nil)
	req.Header.Set("Accept", "text/event-stream")
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		e.t.Fatalf("GET /sse: status %d, Content-Type %q, body %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	s := &stream{t: e.t, resp: resp, r: ssetest.NewReader(resp.Body), cancel: cancel}
	e.t.Cleanup(s.close)
	f := s.next()
	if f.Event != "endpoint" || f.HasID {
		e.t.Fatalf("first event %+v, want an endpoint event without id", f)
	}
	s.endpoint = f.Data
	u, err := url.Parse(f.Data)
	if err != nil || u.Path != "/messages" || u.IsAbs() {
		e.t.Fatalf("endpoint %q: want a relative /messages URI", f.Data)
	}
	s.session = u.Query().Get("sessionId")
	if s.session == "" {
		e.t.Fatalf("endpoint %q has no sessionId", f.Data)
	}
	return s
}

// next returns the next frame that is not a heartbeat.
func (s *stream) next() ssetest.Frame {
	s.t.Helper()
	for {
		f := s.frame()
		if !f.IsHeartbeat() {
			return f
		}
	}
}

// frame returns the next frame, heartbeats included.
func (s *stream) frame() ssetest.Frame {
	s.t.Helper()
	f, err := s.r.Next()
	if err != nil {
		s.t.Fatalf("reading SSE: %v", err)
	}
	return f
}

// message returns the next message event's data.
func (s *stream) message() string {
	s.t.Helper()
	f := s.next()
	if f.Event != "message" || f.HasID || f.Data == "" {
		s.t.Fatalf("want a message event without id, got %+v", f)
	}
	return f.Data
}

// end expects the server to end the stream (heartbeats may come first).
func (s *stream) end() {
	s.t.Helper()
	for {
		f, err := s.r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			s.t.Fatalf("want the end of the stream, got %v", err)
		}
		if !f.IsHeartbeat() {
			s.t.Fatalf("want the end of the stream, got %+v", f)
		}
	}
}

// close drops the connection.
func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// post describes one POST to the message endpoint.
type post struct {
	session     string // sessionId; "-" none
	query       string // the raw query instead, when set
	user        string
	accept      string // "" none
	contentType string // "" application/json; "-" none
	version     string // MCP-Protocol-Version; "" none
	body        string
}

// result is a POST's answer.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) post(p post) result {
	e.t.Helper()
	q := p.query
	if q == "" && p.session != "-" {
		q = "sessionId=" + url.QueryEscape(p.session)
	}
	req, _ := http.NewRequestWithContext(e.t.Context(), http.MethodPost, e.srv.URL+"/messages?"+q, strings.NewReader(p.body))
	switch p.contentType {
	case "":
		req.Header.Set("Content-Type", "application/json")
	case "-":
	default:
		req.Header.Set("Content-Type", p.contentType)
	}
	for k, v := range map[string]string{"Accept": p.accept, "X-Test-User": p.user, "MCP-Protocol-Version": p.version} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

// initBody is an initialize request for version v.
func initBody(v string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{"sampling":{}},"clientInfo":{"name":"legacy","version":"1"}}}`, v)
}

// initialize opens a stream for user and initializes its session at
// version v.
func (e *env) initialize(v, user string) *stream {
	e.t.Helper()
	s := e.open(user)
	if r := e.post(post{session: s.session, user: user, body: initBody(v)}); r.status != http.StatusAccepted {
		e.t.Fatalf("initialize: status %d, body %s", r.status, r.body)
	}
	var res struct {
		ID     int `json:"id"`
		Result struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(s.message()), &res); err != nil || res.Result.ProtocolVersion == "" {
		e.t.Fatalf("initialize response: %v %+v", err, res)
	}
	if r := e.post(post{session: s.session, user: user, body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`}); r.status != http.StatusAccepted {
		e.t.Fatalf("notifications/initialized: status %d", r.status)
	}
	return s
}

// wantJSON compares JSON texts by value.
func wantJSON(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: not JSON: %q", what, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad want %q", what, want)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Fatalf("%s (-want +got):\n%s", what, diff)
	}
}
