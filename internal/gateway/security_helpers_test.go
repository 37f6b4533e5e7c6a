package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/logtest"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/httpfront"
)

// logSink collects logs for tests to search.
type logSink = logtest.Sink

// started is a gateway under test.
type started struct {
	url   string // the MCP endpoint
	base  string
	g     *Gateway
	logs  *logSink
	front *httpfront.Server
}

// startWith builds and starts a gateway whose logs (JSON, debug level) go
// to a logSink, shown in the test log if the test fails. mutate, if set,
// runs between New and serving (tests swap in what the configuration
// cannot express yet, and must rebuild g.handler themselves).
func startWith(t *testing.T, cfg *config.Config, mutate func(g *Gateway)) *started {
	t.Helper()
	logs := &logSink{}
	g, err := New(cfg, Options{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Version: "test"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if mutate != nil {
		mutate(g)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front, closeFront := serveFront(t, g, ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = g.hub.Shutdown(ctx)
		closeFront()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	base := "http://" + ln.Addr().String()
	return &started{url: base + "/mcp", base: base, g: g, logs: logs, front: front}
}

// serveFront serves g on ln as Run does (g.Front: the fast lane for plain
// POSTs, net/http for the rest), so that every test through it covers
// both lanes. The returned func closes the server and waits for Serve.
func serveFront(t testing.TB, g *Gateway, ln net.Listener) (*httpfront.Server, func()) {
	t.Helper()
	front := g.Front()
	served := make(chan error, 1)
	go func() { served <- front.Serve(ln) }()
	return front, sync.OnceFunc(func() {
		front.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
}

// reply is one HTTP response of the MCP endpoint.
type reply struct {
	status  int
	header  http.Header
	body    []byte
	message map[string]any // the JSON-RPC message answering the request (from JSON or the last SSE event)
}

// errorCode returns the JSON-RPC error code of the reply, or 0.
func (r *reply) errorCode() int {
	e, _ := r.message["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return int(c)
}

// errorData returns error.data.error of a transport error reply.
func (r *reply) errorData() string {
	e, _ := r.message["error"].(map[string]any)
	d, _ := e["data"].(map[string]any)
	s, _ := d["error"].(string)
	return s
}

// send sends one request to the MCP endpoint. headers may override the
// defaults (Accept, Content-Type, MCP-Protocol-Version).
func send(t *testing.T, method, url, body string, headers map[string]string) *reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	r := &reply{status: resp.StatusCode, header: resp.Header, body: data}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok && strings.TrimSpace(d) != "" {
				var m map[string]any
				if json.Unmarshal([]byte(d), &m) == nil && (m["result"] != nil || m["error"] != nil) {
					r.message = m
				}
			}
		}
	} else if len(data) > 0 {
		_ = json.Unmarshal(data, &r.message)
	}
	return r
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sec-test","version":"1"}}}`

// withToken returns request headers carrying a bearer token and a session.
func withToken(token, session string) map[string]string {
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	if session != "" {
		h["Mcp-Session-Id"] = session
		h["MCP-Protocol-Version"] = "2025-11-25"
	}
	return h
}

// open initializes a session with the given headers and returns its ID.
func open(t *testing.T, url string, headers map[string]string) string {
	t.Helper()
	r := send(t, "POST", url, initBody, headers)
	id := r.header.Get("Mcp-Session-Id")
	if r.status != http.StatusOK || id == "" {
		t.Fatalf("initialize: %d %s", r.status, r.body)
	}
	h := map[string]string{"Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-11-25"}
	for k, v := range headers {
		h[k] = v
	}
	if r := send(t, "POST", url, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, h); r.status != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d %s", r.status, r.body)
	}
	return id
}

// callTool is the body of a tools/call request.
func callTool(id int, name, args string) string {
	return `{"jsonrpc":"2.0","id":` + itoa(id) + `,"method":"tools/call","params":{"name":"` + name + `","arguments":` + args + `}}`
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// resultText returns the text of a tools/call result's first content item.
func (r *reply) resultText() string {
	res, _ := r.message["result"].(map[string]any)
	content, _ := res["content"].([]any)
	if len(content) == 0 {
		return ""
	}
	c, _ := content[0].(map[string]any)
	s, _ := c["text"].(string)
	return s
}
