package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func timeMS(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// countingServer is an httptest server that counts its connections.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// TestHTTPCallerAnswers: the client reads a response as JSON and as an SSE
// stream (chunked, with a notification first), on one kept-alive
// connection.
func TestHTTPCallerAnswers(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := string(rawID(body))
		switch r.Header.Get("X-Mode") {
		case "json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[]}}`, id)
		case "sse":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "id: s.0\nretry: 1000\ndata: \n\n")
			w.(http.Flusher).Flush()
			fmt.Fprint(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n")
			w.(http.Flusher).Flush()
			fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}\n\n", id)
		case "tool-error":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[],"isError":true}}`, id)
		default:
			http.Error(w, "no", http.StatusTooManyRequests)
		}
	}))
	u, _ := url.Parse(srv.URL + "/mcp")
	conn := newH1Conn(context.Background(), u)
	defer conn.close()
	for i, tc := range []struct {
		mode   string
		wantOK bool
		status int
	}{{"json", true, 0}, {"sse", true, 0}, {"json", true, 0}, {"tool-error", false, 0}, {"limit", false, 429}, {"sse", true, 0}} {
		c := newHTTPCaller(conn, u, http.Header{"X-Mode": {tc.mode}, "Content-Type": {"application/json"}}, defaultCall.callParams(nil))
		err := c.call(int64(i + 1))
		if (err == nil) != tc.wantOK {
			t.Errorf("call %d (%s): err = %v, want ok=%v", i+1, tc.mode, err, tc.wantOK)
		}
		if tc.status != 0 && !isStatus(err, tc.status) {
			t.Errorf("call %d (%s): err = %v, want HTTP %d", i+1, tc.mode, err, tc.status)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1 kept alive", n)
	}
}

// TestH1ConnRedialsAfterIdleClose: a kept-alive connection the server
// closed while idle is redialled, and the request retried once.
func TestH1ConnRedialsAfterIdleClose(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	u, _ := url.Parse(srv.URL)
	conn := newH1Conn(context.Background(), u)
	defer conn.close()
	for i := range 2 {
		if err := conn.do("GET", "/", nil, nil); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if err := conn.discard(); err != nil {
			t.Fatal(err)
		}
		srv.CloseClientConnections()
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestChunkedReader(t *testing.T) {
	in := "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT"
	conn := &h1conn{}
	conn.br = newSSEReader(strings.NewReader(in)).r
	conn.resp = h1resp{status: 200, chunked: true}
	body, err := conn.readBody()
	if err != nil || string(body) != "hello, world" {
		t.Fatalf("body %q, err %v", body, err)
	}
	rest, _ := io.ReadAll(conn.br)
	if string(rest) != "NEXT" {
		t.Errorf("after the body: %q, want NEXT", rest)
	}
}
