package streamable

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

// meta is a valid 2026-07-28 _meta with extra members (",..." or "").
func meta(caps, extra string) string {
	return `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
		`"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},` +
		`"io.modelcontextprotocol/clientCapabilities":` + caps + extra + `}`
}

// modern are the headers of a valid stateless request for method.
func modern(method string) map[string]string {
	return map[string]string{"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method}
}

// with returns h with the given headers changed; "-" removes one.
func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		for k := range out {
			if strings.EqualFold(k, kv[i]) {
				delete(out, k)
			}
		}
		if kv[i+1] != "-" {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

type statelessResult struct {
	status int
	header http.Header
	body   []byte          // JSON body
	frames []ssetest.Frame // SSE frames
}

// send sends one request to srv's /mcp with exactly the headers given
// (plus Accept and Content-Type) and returns the response, still open.
func send(ctx context.Context, t *testing.T, srv *httptest.Server, method string, hdr map[string]string, body string) *http.Response {
	t.Helper()
	hr, err := http.NewRequestWithContext(ctx, method, srv.URL+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Accept", "application/json, text/event-stream")
	hr.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		hr.Header[k] = append(hr.Header[k], v) // names as given: case must not matter
	}
	resp, err := srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// post sends one request as send does and reads the response.
func (e *env) post(ctx context.Context, method string, hdr map[string]string, body string) statelessResult {
	e.t.Helper()
	resp := send(ctx, e.t, e.Srv, method, hdr, body)
	defer resp.Body.Close()
	res := statelessResult{status: resp.StatusCode, header: resp.Header}
	if resp.Header.Get("Content-Type") == "text/event-stream" {
		sr := ssetest.NewReader(resp.Body)
		for {
			f, err := sr.Next()
			if err != nil {
				break
			}
			res.frames = append(res.frames, f)
		}
		return res
	}
	res.body, _ = io.ReadAll(resp.Body)
	return res
}

// TestStatelessRules plays the wire rules of docs/protocol-eras.md §2, one
// row per rule, in front of the fake core.
func TestStatelessRules(t *testing.T) {
	e := newEnv(t, nil)
	echo := `{"jsonrpc":"2.0","id":7,"method":"echo","params":{` + meta(`{}`, "") + `}}`
	call := func(name string) string {
		return `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"` + name + `","arguments":{},` + meta(`{}`, "") + `}}`
	}
	tests := []struct {
		name       string
		method     string // HTTP method; "" POST
		hdr        map[string]string
		body       string
		wantStatus int
		wantCode   int    // JSON-RPC error code; 0: a result
		wantID     string // raw id of the answer
		wantData   string // error.data, when set
		wantAllow  string
	}{
		{name: "valid request", hdr: modern("echo"), body: echo, wantStatus: 200, wantID: "7"},
		{name: "lower-case header names", hdr: map[string]string{"mcp-protocol-version": "2026-07-28", "mcp-method": "echo"},
			body: echo, wantStatus: 200, wantID: "7"},
		{name: "upper-case header names", hdr: map[string]string{"MCP-PROTOCOL-VERSION": "2026-07-28", "MCP-METHOD": "echo"},
			body: echo, wantStatus: 200, wantID: "7"},
		{name: "session header ignored", hdr: with(modern("echo"), "Mcp-Session-Id", "no-such-session", "Last-Event-ID", "x"),
			body: echo, wantStatus: 200, wantID: "7"},
		// rule 3
		{name: "parse error", hdr: modern("echo"), body: `{"jsonrpc":`, wantStatus: 400, wantCode: jsonrpc.CodeParseError, wantID: "null"},
		{name: "batch", hdr: modern("echo"), body: `[` + echo + `]`, wantStatus: 400, wantCode: jsonrpc.CodeInvalidRequest, wantID: "null"},
		// rule 4
		{name: "response", hdr: modern("echo"), body: `{"jsonrpc":"2.0","id":3,"result":{}}`, wantStatus: 400,
			wantCode: jsonrpc.CodeInvalidRequest, wantID: "3"},
		{name: "notification", hdr: modern("notifications/x"), body: `{"jsonrpc":"2.0","method":"notifications/x"}`, wantStatus: 202},
		// rule 5
		{name: "_meta without version header", hdr: map[string]string{"Mcp-Method": "echo"}, body: echo,
			wantStatus: 400, wantCode: mcp.CodeHeaderMismatch, wantID: "7"},
		{name: "_meta with a session-era version header", hdr: with(modern("echo"), "MCP-Protocol-Version", "2025-11-25"), body: echo,
			wantStatus: 400, wantCode: mcp.CodeHeaderMismatch, wantID: "7"},
		// rule 6
		{name: "no _meta", hdr: modern("echo"), body: `{"jsonrpc":"2.0","id":"a","method":"echo","params":{}}`,
			wantStatus: 400, wantCode: jsonrpc.CodeInvalidParams, wantID: `"a"`},
		{name: "no params", hdr: modern("echo"), body: `{"jsonrpc":"2.0","id":"a","method":"echo"}`,
			wantStatus: 400, wantCode: jsonrpc.CodeInvalidParams, wantID: `"a"`},
		{name: "no clientCapabilities", hdr: modern("echo"),
			body:       `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
			wantStatus: 400, wantCode: jsonrpc.CodeInvalidParams, wantID: "1"},
		{name: "version not a string", hdr: modern("echo"),
			body:       `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":2026,"io.modelcontextprotocol/clientCapabilities":{}}}}`,
			wantStatus: 400, wantCode: jsonrpc.CodeInvalidParams, wantID: "1"},
		{name: "clientInfo optional", hdr: modern("echo"),
			body:       `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`,
			wantStatus: 200, wantID: "1"},
		// rule 7
		{name: "header and _meta disagree", hdr: modern("echo"),
			body:       `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"v999.0.0","io.modelcontextprotocol/clientCapabilities":{}}}}`,
			wantStatus: 400, wantCode: mcp.CodeHeaderMismatch, wantID: "1"},
		// rule 8
		{name: "unsupported version", hdr: with(modern("echo"), "MCP-Protocol-Version", "v999.0.0"),
			body:       `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"v999.0.0","io.modelcontextprotocol/clientCapabilities":{}}}}`,
			wantStatus: 400, wantCode: mcp.CodeUnsupportedProtocolVersion, wantID: "1",
			wantData: `{"supported":["2026-07-28"],"requested":"v999.0.0"}`},
		// rule 9
		{name: "Mcp-Method missing", hdr: with(modern("echo"), "Mcp-Method", "-"), body: echo,
			wantStatus: 400, wantCode: mcp.CodeHeaderMismatch, wantID: "7"},
		{name: "Mcp-Method differs", hdr: modern("ping"), body: echo, wantStatus: 400, wantCode: mcp.CodeHeaderMismatch, wantID: "7"},
		{name: "Mcp-Method value is case-sensitive", hdr: modern("ECHO"), body: echo,
			wantStatus: 400, wantCode: mcp.CodeHeaderMismatch, wantID: "7"},
		// rule 10
		{name: "Mcp-Name matches", hdr: with(modern("tools/call"), "Mcp-Name", "hello"), body: call("hello"), wantStatus: 200, wantID: "8"},
		{name: "Mcp-Name base64", hdr: with(modern("tools/call"), "Mcp-Name", "=?base64?aGVsbG8=?="), body: call("hello"),
			wantStatus: 200, wantID: "8"},
		{name: "Mcp-Name with whitespace", hdr: with(modern("tools/call"), "Mcp-Name", "  hello  "), body: call("hello"),
			wantStatus: 200, wantID: "8"},
		{name: "Mcp-Name missing", hdr: modern("tools/call"), body: call("hello"), wantStatus: 400, wantCode: mcp.CodeHeaderMismatch, wantID: "8"},
		{name: "Mcp-Name differs", hdr: with(modern("tools/call"), "Mcp-Name", "other"), body: call("hello"),
			wantStatus: 400, wantCode: mcp.CodeHeaderMismatch, wantID: "8"},
		{name: "Mcp-Name bad base64", hdr: with(modern("tools/call"), "Mcp-Name", "=?base64?aGVsbG8?="), body: call("hello"),
			wantStatus: 400, wantCode: mcp.CodeHeaderMismatch, wantID: "8"},
		// R1: the core's errors
		{name: "method not found is 404", hdr: modern("nosuch"),
			body: `{"jsonrpc":"2.0","id":9,"method":"nosuch","params":{` + meta(`{}`, "") + `}}`, wantStatus: 404,
			wantCode: jsonrpc.CodeMethodNotFound, wantID: "9"},
		{name: "other errors are 200", hdr: with(modern("tools/call"), "Mcp-Name", "nosuch"), body: call("nosuch"),
			wantStatus: 200, wantCode: jsonrpc.CodeInvalidParams, wantID: "8"},
		// rule 14 (through a server→client request the stream refuses)
		{name: "undeclared capability", hdr: modern("ask"),
			body: `{"jsonrpc":"2.0","id":10,"method":"ask","params":{` + meta(`{}`, "") + `}}`, wantStatus: 400,
			wantCode: mcp.CodeMissingClientCapability, wantID: "10", wantData: `{"requiredCapabilities":{"sampling":{}}}`},
		{name: "declared capability: no server request on the stream", hdr: modern("ask"),
			body: `{"jsonrpc":"2.0","id":10,"method":"ask","params":{` + meta(`{"sampling":{}}`, "") + `}}`, wantStatus: 200,
			wantCode: jsonrpc.CodeInternalError, wantID: "10"},
		// GET and DELETE without a session
		{name: "GET without session", method: http.MethodGet, hdr: modern("echo"), wantStatus: 405, wantCode: jsonrpc.CodeInvalidRequest,
			wantID: "null", wantAllow: "POST"},
		{name: "DELETE without session", method: http.MethodDelete, wantStatus: 405, wantCode: jsonrpc.CodeInvalidRequest,
			wantID: "null", wantAllow: "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			res := e.post(t.Context(), method, tt.hdr, tt.body)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			}
			if res.header.Get("Mcp-Session-Id") != "" {
				t.Errorf("a stateless answer set Mcp-Session-Id")
			}
			if tt.wantAllow != "" && res.header.Get("Allow") != tt.wantAllow {
				t.Errorf("Allow %q, want %q", res.header.Get("Allow"), tt.wantAllow)
			}
			if tt.wantStatus == http.StatusAccepted {
				if len(res.body) != 0 {
					t.Errorf("202 with body %s", res.body)
				}
				return
			}
			var body struct {
				ID     json.RawMessage `json:"id"`
				Result json.RawMessage `json:"result"`
				Error  *struct {
					Code    int             `json:"code"`
					Message string          `json:"message"`
					Data    json.RawMessage `json:"data"`
				} `json:"error"`
			}
			if err := json.Unmarshal(res.body, &body); err != nil {
				t.Fatalf("body %q: %v", res.body, err)
			}
			if string(body.ID) != tt.wantID {
				t.Errorf("id %s, want %s", body.ID, tt.wantID)
			}
			switch {
			case tt.wantCode == 0 && body.Error != nil:
				t.Fatalf("error %+v, want a result", body.Error)
			case tt.wantCode != 0 && (body.Error == nil || body.Error.Code != tt.wantCode || body.Error.Message == ""):
				t.Fatalf("body %s, want error %d", res.body, tt.wantCode)
			}
			if tt.wantData != "" {
				if diff := jsonDiff(t, []string{tt.wantData}, []string{string(body.Error.Data)}); diff != "" {
					t.Errorf("error.data (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestStatelessStreams checks the response stream of stateless requests:
// no event IDs, priming or retry (R6), and logs only with a logLevel at or
// below the message's (R7).
func TestStatelessStreams(t *testing.T) {
	e := newEnv(t, nil)
	logCall := func(extra string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_reconnection",` + meta(`{}`, extra) + `}}`
	}
	hdr := with(modern("tools/call"), "Mcp-Name", "test_reconnection")
	logMsg := `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"working"}}`
	answer := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"reconnected"}]}}`
	tests := []struct {
		name string
		hdr  map[string]string
		body string
		want []string // messages; one means a JSON answer
	}{
		{name: "progress streams", hdr: modern("progress"),
			body: `{"jsonrpc":"2.0","id":2,"method":"progress","params":{"n":2,` + meta(`{}`, "") + `}}`, want: []string{
				`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`,
				`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":2}}`,
				`{"jsonrpc":"2.0","id":2,"result":{"done":2}}`,
			}},
		{name: "no logLevel: no log", hdr: hdr, body: logCall(""), want: []string{answer}},
		{name: "logLevel above the message: no log", hdr: hdr, body: logCall(`,"io.modelcontextprotocol/logLevel":"error"`), want: []string{answer}},
		{name: "logLevel at the message: log", hdr: hdr, body: logCall(`,"io.modelcontextprotocol/logLevel":"info"`), want: []string{logMsg, answer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.post(t.Context(), http.MethodPost, tt.hdr, tt.body)
			if res.status != http.StatusOK {
				t.Fatalf("status %d; body %s", res.status, res.body)
			}
			var got []string
			if len(tt.want) == 1 {
				if res.frames != nil {
					t.Fatalf("SSE %+v, want a JSON answer", res.frames)
				}
				got = []string{string(res.body)}
			}
			for _, f := range res.frames {
				if f.HasID || f.Retry != "" {
					t.Errorf("frame %+v has an id or retry", f)
				}
				if f.HasData {
					got = append(got, f.Data)
				}
			}
			if diff := jsonDiff(t, tt.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStatelessDisconnectCancels checks R8: closing the response stream
// cancels the call in the core.
func TestStatelessDisconnectCancels(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	body := `{"jsonrpc":"2.0","id":1,"method":"gate","params":{"gate":"g",` + meta(`{}`, `,"io.modelcontextprotocol/logLevel":"debug"`) + `}}`
	resp := send(ctx, t, e.Srv, http.MethodPost, modern("gate"), body)
	// The gate's first notification proves the call is running.
	if _, err := ssetest.NewReader(resp.Body).Next(); err != nil {
		t.Fatalf("first frame: %v", err)
	}
	cancel()
	resp.Body.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := e.Hub.WaitIdle(wctx); err != nil {
		t.Fatalf("the call did not end after the disconnection: %v", err)
	}
	if diff := cmp.Diff("cancelled", e.Core.Result("g")); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
}

// TestStatelessKeepAlive checks R6: a silent call's stream gets comment
// lines, then the answer, with no event IDs.
func TestStatelessKeepAlive(t *testing.T) {
	e := newEnv(t, &envConfig{Hub: mcpsession.Options{Heartbeat: 10 * time.Millisecond}})
	body := `{"jsonrpc":"2.0","id":1,"method":"gate","params":{"gate":"k","quiet":true,` + meta(`{}`, "") + `}}`
	resp := send(t.Context(), t, e.Srv, http.MethodPost, modern("gate"), body)
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q, want text/event-stream once a keep-alive is due", ct)
	}
	sr := ssetest.NewReader(resp.Body)
	f, err := sr.Next()
	if err != nil || !f.IsHeartbeat() {
		t.Fatalf("first frame %+v, %v; want a comment", f, err)
	}
	e.Core.Release("k")
	var answer string
	for {
		f, err := sr.Next()
		if err != nil {
			break
		}
		if f.HasID || f.Retry != "" {
			t.Errorf("frame %+v has an id or retry", f)
		}
		if f.HasData {
			answer = f.Data
		}
	}
	if diff := jsonDiff(t, []string{`{"jsonrpc":"2.0","id":1,"result":{"gate":"k"}}`}, []string{answer}); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
}

// FuzzParseMeta checks parseMeta's fast path against encoding/json: when
// it is sure, it answers what decoding answers.
func FuzzParseMeta(f *testing.F) {
	for _, s := range []string{
		`{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`,
		`{"IO.modelcontextprotocol/PROTOCOLVERSION":"x","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/protocolVersion":null}`,
		`{"io.modelcontextprotocol/protocolVersion":1,"io.modelcontextprotocol/clientCapabilities":[]}`,
		`{"io.modelcontextprotocol/logLevel":"debug","io.modelcontextprotocol/clientInfo":{"name":"c"}}`,
		`{"io.modelcontextprotocol/protocolVerſion":"x"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		fast, fastOK, sure := parseMetaFast([]byte(raw))
		if !sure {
			return
		}
		var slow requestMeta
		slowOK := json.Unmarshal([]byte(raw), &slow) == nil && slow.ProtocolVersion != nil
		if slowOK {
			caps := bytes.TrimSpace(slow.ClientCapabilities)
			slowOK = len(caps) > 0 && caps[0] == '{'
		}
		if fastOK != slowOK {
			t.Fatalf("parseMetaFast(%q) ok = %v, encoding/json says %v", raw, fastOK, slowOK)
		}
		if !fastOK {
			return
		}
		if *fast.ProtocolVersion != *slow.ProtocolVersion || fast.LogLevel != slow.LogLevel ||
			!bytes.Equal(fast.ClientCapabilities, slow.ClientCapabilities) || !bytes.Equal(fast.ClientInfo, slow.ClientInfo) {
			t.Fatalf("parseMetaFast(%q) = %+v, encoding/json says %+v", raw, fast, slow)
		}
	})
}

// capsByJSON is readCaps's reference: encoding/json into the three fields.
func capsByJSON(raw []byte) declaredCaps {
	var v struct {
		Sampling, Elicitation, Roots json.RawMessage
	}
	if json.Unmarshal(raw, &v) != nil {
		return declaredCaps{}
	}
	return declaredCaps{present(v.Sampling), present(v.Elicitation), present(v.Roots)}
}

// TestReadCaps: the capabilities a stateless request declares, read
// without encoding/json, as encoding/json reads them.
func TestReadCaps(t *testing.T) {
	tests := []struct {
		raw  string
		want declaredCaps
	}{
		{`{}`, declaredCaps{}},
		{`{"sampling":{},"elicitation":{"form":{}},"roots":{"listChanged":true}}`, declaredCaps{true, true, true}},
		{`{"elicitation":{}}`, declaredCaps{elicitation: true}},
		{`{"Sampling":{},"ROOTS":{}}`, declaredCaps{sampling: true, roots: true}}, // names fold as in encoding/json
		{`{"sampling":null,"roots":{}}`, declaredCaps{roots: true}},               // null declares nothing
		{`{"sampling":{},"sampling":null}`, declaredCaps{}},                       // the last duplicate wins
		{`{"samplin\u0067":{}}`, declaredCaps{sampling: true}},                    // escaped: encoding/json's
		{`{"ſampling":{}}`, declaredCaps{sampling: true}},                         // Unicode folding: encoding/json's
		{`{"experimental":{"sampling":{}},"tasks":{}}`, declaredCaps{}},           // nested names are not capabilities
		{`[]`, declaredCaps{}},             // not an object
		{`{"sampling":{}`, declaredCaps{}}, // not JSON
		{` { "roots" : { } } `, declaredCaps{roots: true}},
	}
	for _, tt := range tests {
		got := readCaps([]byte(tt.raw))
		if got != tt.want {
			t.Errorf("readCaps(%s) = %+v, want %+v", tt.raw, got, tt.want)
		}
		if ref := capsByJSON([]byte(tt.raw)); got != ref {
			t.Errorf("readCaps(%s) = %+v, encoding/json says %+v", tt.raw, got, ref)
		}
	}
}

func FuzzReadCaps(f *testing.F) {
	for _, s := range []string{`{"sampling":{},"Roots":null,"elicitation":{}}`, `{"ſampling":1}`, `[1]`, `{"a":{"roots":{}}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if got, want := readCaps([]byte(raw)), capsByJSON([]byte(raw)); got != want {
			t.Fatalf("readCaps(%q) = %+v, encoding/json says %+v", raw, got, want)
		}
	})
}
