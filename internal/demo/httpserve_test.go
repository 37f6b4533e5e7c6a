//lint:file-ignore SA1019 logging and sampling are deprecated by 2026-07-28 (SEP-2577) but session-era clients still use them; the demo serves them over HTTP and this test proves it.
package demo

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// startHTTP serves the demo over Streamable HTTP on a loopback httptest
// server; the test's end closes both.
func startHTTP(t *testing.T, opts *HTTPOptions) (*HTTPHandler, string) {
	t.Helper()
	if opts == nil {
		opts = &HTTPOptions{}
	}
	if opts.Server == nil {
		opts.Server = &Options{}
	}
	opts.Server.Logger = slog.New(slog.DiscardHandler)
	opts.Server.StepDelay = time.Millisecond
	h := NewHTTPHandler(opts)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close() // ends the streams, so that srv.Close does not wait for them
		srv.Close()
	})
	return h, srv.URL + Path
}

func (h *HTTPHandler) sessionCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// TestHTTPSDKClient: the Go SDK's Streamable HTTP client runs the same
// exercise as over stdio (sdk_test.go): lists, calls, sampling and
// elicitation answered on the POST stream, progress and log messages,
// resource updates on the GET stream; closing it deletes the session.
func TestHTTPSDKClient(t *testing.T) {
	// "" is the SDK's default: it tries 2026-07-28's server/discover, is
	// refused (no session) and falls back to initialize with 2025-11-25.
	for _, version := range []string{"", "2025-11-25", "2025-06-18", "2025-03-26"} {
		t.Run("version "+version, func(t *testing.T) {
			h, url := startHTTP(t, nil)
			ctx := t.Context()
			cs, ev, wantVersion := connectSDK(t, ctx, &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, version)
			if n := h.sessionCount(); n != 1 {
				t.Errorf("sessions = %d, want 1", n)
			}
			sdkExercise(t, ctx, cs, ev, wantVersion)
			if err := cs.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if n := h.sessionCount(); n != 0 {
				t.Errorf("sessions after Close = %d, want 0 (DELETE ends the session)", n)
			}
		})
	}
}

// exchangeResult is what one HTTP exchange returned.
type exchangeResult struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, hdr map[string]string, body string) exchangeResult {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return exchangeResult{resp.StatusCode, resp.Header, string(b)}
}

const initBody = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// TestHTTPSessionScript drives the session era with raw requests, step by
// step; {SID} in a header stands for the session the first step opened.
func TestHTTPSessionScript(t *testing.T) {
	_, url := startHTTP(t, &HTTPOptions{MaxBodyBytes: 1024})
	steps := []struct {
		name, method string
		hdr          map[string]string
		body         string
		wantStatus   int
		wantType     string   // Content-Type prefix; "" skips
		wantBody     []string // substrings, in order
	}{
		{name: "initialize opens a session", method: "POST", body: initBody, wantStatus: 200, wantType: "application/json",
			wantBody: []string{`"id":0`, `"protocolVersion":"2025-11-25"`}},
		{name: "initialized is accepted", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}"},
			body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, wantStatus: 202},
		{name: "a call answered alone is JSON", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}", "Mcp-Protocol-Version": "2025-11-25"},
			body:       `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}`,
			wantStatus: 200, wantType: "application/json", wantBody: []string{`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Echo: hi"}]}}`}},
		{name: "progress first makes it a stream", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}"},
			body:       `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"test_tool_with_progress","arguments":{},"_meta":{"progressToken":7}}}`,
			wantStatus: 200, wantType: "text/event-stream",
			wantBody: []string{`event: message`, `"method":"notifications/progress","params":{"progressToken":7,"progress":0`,
				`"progress":100`, `data: {"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"7"}]}}`}},
		{name: "an error response is JSON too", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}"},
			body: `{"jsonrpc":"2.0","id":3,"method":"no/such"}`, wantStatus: 200, wantType: "application/json", wantBody: []string{`"code":-32601`}},
		{name: "no session", method: "POST", body: `{"jsonrpc":"2.0","id":4,"method":"tools/list"}`,
			wantStatus: 400, wantType: "application/json", wantBody: []string{`"id":4`, `"session_required"`}},
		{name: "unknown session", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "nope"}, body: `{"jsonrpc":"2.0","id":4,"method":"tools/list"}`,
			wantStatus: 404, wantType: "application/json", wantBody: []string{`"session_not_found"`}},
		{name: "another protocol version", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}", "Mcp-Protocol-Version": "2025-06-18"},
			body: `{"jsonrpc":"2.0","id":4,"method":"tools/list"}`, wantStatus: 400, wantBody: []string{`"unsupported_protocol_version"`}},
		{name: "initialize in a session", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}"}, body: initBody,
			wantStatus: 400, wantBody: []string{`"initialize_in_session"`}},
		{name: "batch", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}"}, body: ` [{"jsonrpc":"2.0","id":4,"method":"ping"}]`,
			wantStatus: 400, wantBody: []string{`"batch_unsupported"`}},
		{name: "not JSON", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}"}, body: `{"jsonrpc":`,
			wantStatus: 400, wantBody: []string{`"code":-32700`}},
		{name: "wrong content type", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}", "Content-Type": "text/plain"},
			body: `{}`, wantStatus: 415, wantBody: []string{`"unsupported_media_type"`}},
		{name: "accepting JSON only", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}", "Accept": "application/json"},
			body: `{"jsonrpc":"2.0","id":4,"method":"ping"}`, wantStatus: 406, wantBody: []string{`"not_acceptable"`}},
		{name: "body too large", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}"},
			body:       `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"message":"` + strings.Repeat("x", 1100) + `"}}}`,
			wantStatus: 413, wantBody: []string{`"payload_too_large"`}},
		{name: "PUT", method: "PUT", hdr: map[string]string{"Mcp-Session-Id": "{SID}"}, wantStatus: 405, wantBody: []string{`"method_not_allowed"`}},
		{name: "another path", method: "GET", hdr: map[string]string{"Mcp-Session-Id": "{SID}"}, wantStatus: 404},
		{name: "DELETE ends it", method: "DELETE", hdr: map[string]string{"Mcp-Session-Id": "{SID}"}, wantStatus: 204},
		{name: "then it is unknown", method: "POST", hdr: map[string]string{"Mcp-Session-Id": "{SID}"},
			body: `{"jsonrpc":"2.0","id":5,"method":"ping"}`, wantStatus: 404, wantBody: []string{`"session_not_found"`}},
	}
	var sid string
	for _, st := range steps {
		hdr := map[string]string{}
		for k, v := range st.hdr {
			hdr[k] = strings.ReplaceAll(v, "{SID}", sid)
		}
		u := url
		if st.name == "another path" {
			u += "/other"
		}
		got := do(t, st.method, u, hdr, st.body)
		if sid == "" {
			sid = got.header.Get("Mcp-Session-Id")
			if sid == "" {
				t.Fatalf("%s: no Mcp-Session-Id", st.name)
			}
		}
		if got.status != st.wantStatus {
			t.Errorf("%s: status = %d, want %d; body %s", st.name, got.status, st.wantStatus, got.body)
			continue
		}
		if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, st.wantType) {
			t.Errorf("%s: Content-Type = %q, want %s…", st.name, ct, st.wantType)
		}
		rest := got.body
		for _, w := range st.wantBody {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: body lacks %q (in order) in %s", st.name, w, got.body)
				break
			}
			rest = rest[i+len(w):]
		}
	}
}

// TestHTTPGetStream: the standalone GET stream carries what no request
// owns (a list change, sent before the stream opened, and one after);
// a second GET on the session is refused.
func TestHTTPGetStream(t *testing.T) {
	_, url := startHTTP(t, nil)
	init := do(t, "POST", url, nil, initBody)
	sid := init.header.Get("Mcp-Session-Id")
	sess := map[string]string{"Mcp-Session-Id": sid}
	trigger := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"trigger_list_changed","arguments":{"list":"prompts"}}}`
	if r := do(t, "POST", url, sess, trigger); r.status != 200 {
		t.Fatalf("trigger_list_changed: %d %s", r.status, r.body)
	}

	req, _ := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if r := do(t, "GET", url, map[string]string{"Mcp-Session-Id": sid, "Accept": "text/event-stream"}, ""); r.status != http.StatusConflict {
		t.Errorf("second GET = %d %s, want 409", r.status, r.body)
	}
	if r := do(t, "POST", url, sess, strings.Replace(trigger, `"id":1`, `"id":2`, 1)); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("trigger_list_changed: %d %s", r.status, r.body)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				lines <- d
			}
		}
	}()
	for i := range 2 {
		select {
		case d := <-lines:
			if d != `{"jsonrpc":"2.0","method":"notifications/prompts/list_changed","params":{}}` {
				t.Errorf("event %d = %s", i, d)
			}
		case <-time.After(waitFor):
			t.Fatalf("event %d did not come", i)
		}
	}
	// DELETE ends the session and its stream.
	if r := do(t, "DELETE", url, sess, ""); r.status != 204 {
		t.Errorf("DELETE = %d", r.status)
	}
	select {
	case _, open := <-lines:
		if open {
			t.Error("an event after DELETE")
		}
	case <-time.After(waitFor):
		t.Fatal("the GET stream did not end with its session")
	}
}

// TestHTTPSessionLimits: MaxSessions refuses an initialize over it (503),
// and a session idle for IdleTimeout ends.
func TestHTTPSessionLimits(t *testing.T) {
	h, url := startHTTP(t, &HTTPOptions{MaxSessions: 1, IdleTimeout: time.Second})
	first := do(t, "POST", url, nil, initBody)
	if first.status != 200 {
		t.Fatalf("initialize = %d", first.status)
	}
	r := do(t, "POST", url, nil, initBody)
	if r.status != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, `"too_many_sessions"`) {
		t.Errorf("initialize over the limit = %d %v %s, want 503 with Retry-After", r.status, r.header, r.body)
	}
	deadline := time.Now().Add(waitFor)
	for h.sessionCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the idle session did not expire")
		}
		time.Sleep(50 * time.Millisecond) // polling the sweeper's result
	}
	sess := map[string]string{"Mcp-Session-Id": first.header.Get("Mcp-Session-Id")}
	if r := do(t, "POST", url, sess, `{"jsonrpc":"2.0","id":1,"method":"ping"}`); r.status != 404 {
		t.Errorf("the expired session answers %d, want 404", r.status)
	}
	if r := do(t, "POST", url, nil, initBody); r.status != 200 {
		t.Errorf("initialize after expiry = %d, want 200", r.status)
	}
}
