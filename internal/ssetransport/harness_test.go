package ssetransport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

func TestMain(m *testing.M) {
	mcpsessiontest.Main(m, "internal/ssetransport.(*", "internal/mcpsession.(*", "internal/eventlog.(*Memory).Wait")
}

// env is a Handler behind a real HTTP server on loopback, with a fake core.
type env struct {
	*mcpsessiontest.Env
	t *testing.T
	h *Handler
}

// envConfig configures newEnv; nil or the zero value mean the defaults.
type envConfig = mcpsessiontest.EnvOptions

func newEnv(t *testing.T, cfg *envConfig) *env { return newEnvWith(t, cfg, Options{}) }

// newEnvWith is newEnv with the Handler's options.
func newEnvWith(t *testing.T, cfg *envConfig, opts Options) *env {
	t.Helper()
	e := &env{t: t}
	e.Env = mcpsessiontest.NewEnv(t, cfg, func(hub *mcpsession.Hub) http.Handler {
		e.h = New(hub, &opts)
		mux := http.NewServeMux()
		mux.Handle("/sse", e.h.Stream())
		mux.Handle("/messages", e.h.Messages())
		return mux
	})
	return e
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
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.Srv.URL+"/sse", nil)
	req.Header.Set("Accept", "text/event-stream")
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	resp, err := e.Srv.Client().Do(req)
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
	err    error // the request failed
}

func (e *env) post(p post) result {
	e.t.Helper()
	r := e.postNoFatal(p)
	if r.err != nil {
		e.t.Fatal(r.err)
	}
	return r
}

// postNoFatal is post for any goroutine: a failed request is r.err.
func (e *env) postNoFatal(p post) result {
	q := p.query
	if q == "" && p.session != "-" {
		q = "sessionId=" + url.QueryEscape(p.session)
	}
	req, _ := http.NewRequestWithContext(e.t.Context(), http.MethodPost, e.Srv.URL+"/messages?"+q, strings.NewReader(p.body))
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
	resp, err := e.Srv.Client().Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// initBody is an initialize request for version v.
func initBody(v string) string { return mcpsessiontest.InitializeBody(v, "legacy") }

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
var wantJSON = mcpsessiontest.WantJSON
