package streamable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

func TestMain(m *testing.M) {
	mcpsessiontest.Main(m, "internal/streamable.(*", "internal/mcpsession.(*", "internal/eventlog.(*Memory).Wait")
}

// env is a Handler behind a real HTTP server on loopback, with a fake core.
type env struct {
	*mcpsessiontest.Env
	t *testing.T
	h *Handler
}

// envConfig configures newEnv; nil or the zero value mean the defaults.
type envConfig = mcpsessiontest.EnvOptions

func newEnv(t *testing.T, cfg *envConfig) *env {
	t.Helper()
	e := &env{t: t}
	e.Env = mcpsessiontest.NewEnv(t, cfg, func(hub *mcpsession.Hub) http.Handler {
		e.h = New(hub, nil)
		return e.h
	})
	return e
}

// req describes one HTTP request to the endpoint.
type req struct {
	method      string // "" means POST
	session     string // Mcp-Session-Id; "" none
	version     string // MCP-Protocol-Version; "" none
	accept      string // "" the method's default; "-" none
	contentType string // "" application/json on POST; "-" none
	user        string // X-Test-User
	lastEventID string
	body        string
}

func (e *env) request(ctx context.Context, r req) *http.Response {
	e.t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	hr, err := http.NewRequestWithContext(ctx, r.method, e.Srv.URL+"/mcp", strings.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	set := func(k, v, def string) {
		switch v {
		case "-":
		case "":
			if def != "" {
				hr.Header.Set(k, def)
			}
		default:
			hr.Header.Set(k, v)
		}
	}
	switch r.method {
	case http.MethodPost:
		set("Accept", r.accept, "application/json, text/event-stream")
		set("Content-Type", r.contentType, "application/json")
	case http.MethodGet:
		set("Accept", r.accept, "text/event-stream")
	}
	set("Mcp-Session-Id", r.session, "")
	set("MCP-Protocol-Version", r.version, "")
	set("X-Test-User", r.user, "")
	set("Last-Event-ID", r.lastEventID, "")
	resp, err := e.Srv.Client().Do(hr)
	if err != nil {
		e.t.Fatalf("%s: %v", r.method, err)
	}
	return resp
}

// result is a response read to its end.
type result struct {
	status int
	header http.Header
	ctype  string
	body   []byte
	frames []ssetest.Frame // for text/event-stream
}

func (e *env) do(r req) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 10*time.Second)
	defer cancel()
	resp := e.request(ctx, r)
	defer resp.Body.Close()
	res := result{status: resp.StatusCode, header: resp.Header, ctype: resp.Header.Get("Content-Type")}
	if res.ctype == "text/event-stream" {
		sr := ssetest.NewReader(resp.Body)
		for {
			f, err := sr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				e.t.Fatalf("reading SSE: %v", err)
			}
			res.frames = append(res.frames, f)
		}
		return res
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	res.body = b
	return res
}

// messages returns the JSON-RPC messages of a result: the JSON body (an
// array's elements) or the data of SSE message events.
func (r result) messages(t *testing.T) []string {
	t.Helper()
	var out []string
	if r.ctype == "text/event-stream" {
		for _, f := range r.frames {
			if f.HasData && f.Data != "" {
				out = append(out, f.Data)
			}
		}
		return out
	}
	b := bytes.TrimSpace(r.body)
	if len(b) > 0 && b[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(b, &arr); err != nil {
			t.Fatalf("array body %s: %v", b, err)
		}
		for _, m := range arr {
			out = append(out, string(m))
		}
		return out
	}
	if len(b) > 0 {
		out = append(out, string(b))
	}
	return out
}

// jsonDiff and wantJSON compare JSON texts by value.
var (
	jsonDiff = mcpsessiontest.JSONDiff
	wantJSON = mcpsessiontest.WantJSON
)

// initBody is an initialize request for version v.
func initBody(v string) string { return mcpsessiontest.InitializeBody(v, "test") }

// initialize opens a session for user ("" anonymous) and returns its ID.
func (e *env) initialize(v, user string) string {
	e.t.Helper()
	res := e.do(req{body: initBody(v), user: user})
	id := res.header.Get("Mcp-Session-Id")
	if res.status != http.StatusOK || id == "" {
		e.t.Fatalf("initialize: status %d, session %q, body %s", res.status, id, res.body)
	}
	if r := e.do(req{session: id, user: user, body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`}); r.status != http.StatusAccepted {
		e.t.Fatalf("notifications/initialized: status %d", r.status)
	}
	return id
}

// step is one line of a transport script.
type step struct {
	name        string
	req         req // session "$" means the script's current session
	wantStatus  int
	wantType    string   // "json", "sse" or "empty"
	wantMsgs    []string // JSON-RPC messages, in order
	wantErrCode int      // a transport error: JSON-RPC error with this code and id null
	wantSession bool     // the response sets Mcp-Session-Id (which becomes "$")
	wantPriming bool     // the SSE stream opens with a priming event and retry
	wantHeader  map[string]string
}

// run plays a script, stopping at the first step that fails.
func (e *env) run(steps []step) {
	e.t.Helper()
	current := ""
	for i, st := range steps {
		r := st.req
		if r.session == "$" {
			r.session = current
		}
		res := e.do(r)
		where := fmt.Sprintf("step %d (%s)", i, st.name)
		if res.status != st.wantStatus {
			e.t.Fatalf("%s: status %d, want %d; body %s", where, res.status, st.wantStatus, res.body)
		}
		sid := res.header.Get("Mcp-Session-Id")
		if (sid != "") != st.wantSession {
			e.t.Fatalf("%s: session header %q, want present=%v", where, sid, st.wantSession)
		}
		if sid != "" {
			current = sid
		}
		for k, v := range st.wantHeader {
			if got := res.header.Get(k); got != v {
				e.t.Errorf("%s: header %s = %q, want %q", where, k, got, v)
			}
		}
		switch st.wantType {
		case "json":
			if !strings.HasPrefix(res.ctype, "application/json") {
				e.t.Fatalf("%s: Content-Type %q, want application/json", where, res.ctype)
			}
		case "sse":
			if res.ctype != "text/event-stream" {
				e.t.Fatalf("%s: Content-Type %q, want text/event-stream", where, res.ctype)
			}
			checkSSE(e.t, where, res, st.wantPriming)
		case "empty":
			if len(res.body) != 0 {
				e.t.Fatalf("%s: body %q, want none", where, res.body)
			}
		}
		if st.wantErrCode != 0 {
			var body struct {
				JSONRPC string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Error   struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(res.body, &body); err != nil {
				e.t.Fatalf("%s: error body %q: %v", where, res.body, err)
			}
			if body.JSONRPC != "2.0" || string(body.ID) != "null" || body.Error.Code != st.wantErrCode || body.Error.Message == "" {
				e.t.Fatalf("%s: error body %s, want JSON-RPC error %d with id null", where, res.body, st.wantErrCode)
			}
		}
		if st.wantMsgs != nil {
			if diff := jsonDiff(e.t, st.wantMsgs, res.messages(e.t)); diff != "" {
				e.t.Fatalf("%s: messages (-want +got):\n%s", where, diff)
			}
		}
	}
}

// checkSSE checks the framing of a finished SSE response: an optional
// priming event first, then message events whose IDs name one stream with
// increasing sequence numbers.
func checkSSE(t *testing.T, where string, res result, wantPriming bool) {
	t.Helper()
	frames := res.frames
	if wantPriming {
		if len(frames) == 0 || !frames[0].HasID || !frames[0].HasData || frames[0].Data != "" || frames[0].Retry == "" {
			t.Fatalf("%s: want a priming event (id, empty data, retry) first; frames %+v", where, frames)
		}
		frames = frames[1:]
	}
	stream, last := "", uint64(0)
	if wantPriming {
		var err error
		stream, last, err = eventlog.ParseEventID(res.frames[0].ID)
		if err != nil {
			t.Fatalf("%s: priming ID %q: %v", where, res.frames[0].ID, err)
		}
	}
	for _, f := range frames {
		if len(f.Comments) > 0 && !f.HasData {
			continue // heartbeat
		}
		if f.Retry != "" || f.Data == "" {
			t.Fatalf("%s: unexpected priming/retry frame %+v (priming wanted: %v)", where, f, wantPriming)
		}
		if f.Event != "message" {
			t.Fatalf("%s: event type %q, want message", where, f.Event)
		}
		s, seq, err := eventlog.ParseEventID(f.ID)
		if err != nil {
			t.Fatalf("%s: event ID %q: %v", where, f.ID, err)
		}
		if stream != "" && s != stream || seq <= last {
			t.Fatalf("%s: event ID %q after %s.%d", where, f.ID, stream, last)
		}
		stream, last = s, seq
	}
}
