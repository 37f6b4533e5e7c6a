package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// The load runs below are short (100 ms): they check that every transport
// and mode works end to end, not how fast.
const testRun = 100 * time.Millisecond

func floorServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(floorHandler())
	t.Cleanup(srv.Close)
	return srv
}

func checkRun(t *testing.T, r *result, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if r.Calls == 0 || r.Errors != 0 || len(r.Latency) != r.Calls {
		t.Fatalf("run: %v", r)
	}
	if r.ClientCPU <= 0 || r.ClientCPUPerCall() <= 0 {
		t.Fatalf("the load client's own CPU time was not measured: %v", r.ClientCPU)
	}
}

func TestLoadStreamableFloor(t *testing.T) {
	srv := floorServer(t)
	r, err := runTarget(t.Context(), target{Transport: transportStreamable, URL: srv.URL + "/mcp", Call: defaultCall}, 4, 0, testRun)
	checkRun(t, r, err)
	// A call over loopback is a request and a response: two segments or
	// more (the counter is the machine's, so others' only add to it).
	if _, err := os.Stat("/proc/net/snmp"); err == nil && r.SegmentsPerCall() < 2 {
		t.Errorf("TCP segments per call: %.2f (%d for %d calls), want at least 2", r.SegmentsPerCall(), r.Segments, r.Calls)
	}
}

func TestLoadStatelessFloor(t *testing.T) {
	srv := floorServer(t)
	r, err := runTarget(t.Context(), target{Transport: transportStateless, URL: srv.URL + "/mcp", Call: defaultCall}, 2, 0, testRun)
	checkRun(t, r, err)
}

func TestChurnFloor(t *testing.T) {
	srv := floorServer(t)
	u, _ := url.Parse(srv.URL + "/mcp")
	r, err := runChurn(t.Context(), u, defaultCall, nil, 2, 0, testRun)
	checkRun(t, r, err)
}

// TestLoadStdioFloor runs the stdio floor as a real subprocess and loads it
// directly, as the suite's "direct" rows do.
func TestLoadStdioFloor(t *testing.T) {
	r, err := runTarget(t.Context(), target{Transport: transportStdio, Command: stdioFloorCommand(t), Call: defaultCall}, 4, 0, testRun)
	checkRun(t, r, err)
}

func TestStdioFloorAnswers(t *testing.T) {
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":"a","method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}`,
		`{"jsonrpc":"2.0","id":8,"method":"prompts/list"}`,
		`{"jsonrpc":"2.0","id":9,"result":{}}`,
	}, "\n") + "\n"
	var out bytes.Buffer
	if err := serveStdioFloor(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	want := `{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"mcpgate-bench floor","version":"1"}}}
{"jsonrpc":"2.0","id":"a","result":` + string(floorTools) + `}
{"jsonrpc":"2.0","id":7,"result":` + floorResult + `}
{"jsonrpc":"2.0","id":8,"error":{"code":-32601,"message":"Method not found"}}
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// legacyServer is a minimal 2024-11-05 HTTP+SSE server: GET /sse names the
// messages endpoint, POSTs are answered on the stream.
func legacyServer(t *testing.T) *httptest.Server { return legacyServerWith(t, false) }

// legacyServerWith is legacyServer; with broadcast set it sends every
// response to every session's stream, as supergateway does, and answers a
// tools/call whose id it has seen before, from any session, with an error.
func legacyServerWith(t *testing.T, broadcast bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(legacyHandler(broadcast))
	t.Cleanup(srv.Close)
	return srv
}

// legacyHandler is legacyServerWith's handler.
func legacyHandler(broadcast bool) http.Handler {
	type stream struct {
		ch   chan []byte
		done chan struct{} // closed when its GET has returned
	}
	var mu sync.Mutex // guards streams, seen
	streams := map[string]stream{}
	seen := map[string]bool{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sse", func(w http.ResponseWriter, r *http.Request) {
		s := stream{make(chan []byte, 64), make(chan struct{})}
		defer close(s.done)
		mu.Lock()
		id := fmt.Sprint(len(streams) + 1)
		streams[id] = s
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "event: endpoint\ndata: /messages?sessionId=%s\n\n", id)
		w.(http.Flusher).Flush()
		for {
			select {
			case msg := <-s.ch:
				fmt.Fprintf(w, "event: message\ndata: %s\n\n", msg)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	})
	mux.HandleFunc("POST /messages", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		to := []stream{streams[r.URL.Query().Get("sessionId")]}
		if to[0].ch == nil {
			mu.Unlock()
			http.NotFound(w, r)
			return
		}
		out := floorAnswer(nil, body)
		if broadcast {
			to = to[:0]
			for _, s := range streams {
				to = append(to, s)
			}
			if id := string(rawID(body)); bytes.Contains(body, methodToolsCall) {
				if seen[id] {
					out = []byte(`{"jsonrpc":"2.0","id":` + id + `,"error":{"code":-32600,"message":"id used before"}}`)
				}
				seen[id] = true
			}
		}
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		if len(out) == 0 {
			return
		}
		for _, s := range to {
			select {
			case s.ch <- out:
			case <-s.done:
			}
		}
	})
	return mux
}

func TestLoadLegacySSE(t *testing.T) {
	tests := []struct {
		name     string
		sessions int
	}{
		{"shared sessions, reader goroutine", 2},
		{"a session per worker, read by its caller", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := legacyServer(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r, err := runTarget(ctx, target{Transport: transportSSE, URL: srv.URL + "/sse", Call: defaultCall, Sessions: tt.sessions}, 4, 0, testRun)
			checkRun(t, r, err)
		})
	}
}

func TestLegacyNotServedIsNA(t *testing.T) {
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	_, err := runTarget(t.Context(), target{Transport: transportSSE, URL: notFound.URL + "/sse", Call: defaultCall}, 1, 0, testRun)
	if got := naReason(err); !strings.Contains(got, "404") {
		t.Errorf("naReason = %q, want a 404 note", got)
	}
}

func TestIdleStreamsFloor(t *testing.T) {
	srv := floorServer(t)
	u, _ := url.Parse(srv.URL + "/mcp")
	conns, err := idleStreams(t.Context(), u, transportStreamable, 20, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 20 {
		t.Errorf("%d streams, want 20", len(conns))
	}
	closeConns(conns)
	if rss, err := readRSS(0); err == nil || rss != 0 {
		t.Errorf("readRSS(0) = %d, %v: want an error", rss, err)
	}
}
