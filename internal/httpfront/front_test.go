package httpfront

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// echo answers a POST with its body (GET with "get"), and says on
// X-Proto which protocol version it saw.
func echo(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Proto", r.Proto)
	if r.Method == http.MethodGet {
		b = []byte("get")
	}
	w.Write(b)
}

func fastMCP(method, target []byte) bool {
	path, _, _ := bytes.Cut(target, []byte{'?'})
	return string(method) == http.MethodPost && string(path) == "/mcp"
}

// start serves h on a loopback listener; Close runs at the test's end.
func start(t testing.TB, h http.Handler, mutate func(*Options)) (*Server, string) {
	t.Helper()
	o := &Options{Handler: h, Fast: fastMCP, Log: slog.New(slog.DiscardHandler)}
	if mutate != nil {
		mutate(o)
	}
	s := New(o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, ln.Addr().String()
}

// rawConn is a client connection that writes bytes as given.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawConn) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one response and its body.
func (c *rawConn) read() (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("reading the response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading the body: %v", err)
	}
	return resp, string(b)
}

// closed reports whether the server closed the connection (a read ends
// with EOF or a reset, not with bytes).
func (c *rawConn) closed() bool {
	c.t.Helper()
	var b [1]byte
	n, err := c.br.Read(b[:])
	return n == 0 && err != nil
}

func post(path, body string, headers ...string) string {
	return "POST " + path + " HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n" +
		strings.Join(append(headers, ""), "\r\n") +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
}

// TestLanes: which lane serves each kind of request, and that net/http
// judges the ones the fast lane refuses (status codes as net/http's).
func TestLanes(t *testing.T) {
	big := strings.Repeat("x", 5000)
	tests := []struct {
		name   string
		raw    string
		status int
		body   string
		fast   bool
	}{
		{"plain POST", post("/mcp", `{"a":1}`), 200, `{"a":1}`, true},
		{"keep-alive", post("/mcp", `{}`, "Connection: keep-alive"), 200, `{}`, true},
		{"query", post("/mcp?x=1", `{}`), 200, `{}`, true},
		{"empty body", post("/mcp", ``), 200, ``, true},
		{"GET", "GET /mcp HTTP/1.1\r\nHost: gw\r\n\r\n", 200, "get", false},
		{"other path", post("/other", `{}`), 200, `{}`, false},
		{"absolute form", "POST http://gw/mcp HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}", 200, `{}`, false},
		{"chunked", "POST /mcp HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 200, `{}`, false},
		{"Connection: close", post("/mcp", `{}`, "Connection: close"), 200, `{}`, false},
		{"HTTP/1.0", "POST /mcp HTTP/1.0\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}", 200, `{}`, false},
		{"header beyond the buffer", post("/mcp", `{}`, "X-Big: "+big), 200, `{}`, false},
		{"two lengths", "POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", 400, "", false},
		{"no length: no body", "POST /mcp HTTP/1.1\r\nHost: gw\r\n\r\n", 200, "", true},
		{"signed length", "POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Length: +2\r\n\r\n{}", 400, "", false},
		{"no Host", "POST /mcp HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 400, "", false},
		{"two Hosts", "POST /mcp HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 2\r\n\r\n{}", 400, "", false},
		{"bad Host", "POST /mcp HTTP/1.1\r\nHost: a b\r\nContent-Length: 2\r\n\r\n{}", 400, "", false},
		{"control byte", "POST /mcp HTTP/1.1\r\nHost: gw\r\nX-A: a\x01b\r\nContent-Length: 2\r\n\r\n{}", 400, "", false},
		{"folded line", "POST /mcp HTTP/1.1\r\nHost: gw\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\n{}", 200, `{}`, false},
		{"space before colon", "POST /mcp HTTP/1.1\r\nHost: gw\r\nX-A : a\r\nContent-Length: 2\r\n\r\n{}", 400, "", false},
		{"bare LF", "POST /mcp HTTP/1.1\nHost: gw\nContent-Length: 2\n\n{}", 200, `{}`, false},
		{"bare LF inside", "POST /mcp HTTP/1.1\r\nHost: gw\nContent-Length: 2\r\n\r\n{}", 200, `{}`, false},
		{"bare CR", "POST /mcp HTTP/1.1\r\nHost: gw\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\n{}", 400, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, addr := start(t, http.HandlerFunc(echo), nil)
			c := dial(t, addr)
			c.send(tt.raw)
			resp, body := c.read()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tt.status, body)
			}
			if tt.status == 200 && body != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			fast, handed := s.Stats()
			if want := map[bool]uint64{true: 1}[tt.fast]; fast != want || handed != 1-want {
				t.Errorf("fast %d, handed off %d; want fast %v", fast, handed, tt.fast)
			}
		})
	}
}

// TestKeepAliveThenHandOff: fast requests on one connection, then one the
// fast lane refuses: it and everything after it are net/http's, on the
// same connection, in order.
func TestKeepAliveThenHandOff(t *testing.T) {
	s, addr := start(t, http.HandlerFunc(echo), nil)
	c := dial(t, addr)
	for i := range 3 {
		c.send(post("/mcp", fmt.Sprintf(`{"n":%d}`, i)))
		if _, body := c.read(); body != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("request %d: body %q", i, body)
		}
	}
	c.send("GET /mcp HTTP/1.1\r\nHost: gw\r\n\r\n" + post("/mcp", `{"n":9}`)) // pipelined
	if _, body := c.read(); body != "get" {
		t.Fatalf("GET: body %q", body)
	}
	if _, body := c.read(); body != `{"n":9}` {
		t.Fatalf("POST after the hand-off: body %q", body)
	}
	if fast, handed := s.Stats(); fast != 3 || handed != 1 {
		t.Errorf("fast %d, handed off %d; want 3 and 1", fast, handed)
	}
}

// TestPipelined: requests sent in one write are answered in order.
func TestPipelined(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(echo), nil)
	c := dial(t, addr)
	c.send(post("/mcp", `1`) + post("/mcp", `22`) + post("/mcp", `333`))
	for _, want := range []string{"1", "22", "333"} {
		if _, body := c.read(); body != want {
			t.Fatalf("body %q, want %q", body, want)
		}
	}
}

// TestUnreadBody: a body the handler leaves is skipped when small (the
// connection lives on) and ends the connection when large.
func TestUnreadBody(t *testing.T) {
	ignore := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	_, addr := start(t, ignore, nil)

	c := dial(t, addr)
	c.send(post("/mcp", strings.Repeat("a", 1000)))
	if resp, _ := c.read(); resp.StatusCode != 202 || resp.Close {
		t.Fatalf("small unread body: status %d, close %v", resp.StatusCode, resp.Close)
	}
	c.send(post("/mcp", `{}`))
	if resp, _ := c.read(); resp.StatusCode != 202 {
		t.Fatalf("next request: status %d", resp.StatusCode)
	}

	c = dial(t, addr)
	go c.send(post("/mcp", strings.Repeat("a", maxDrain+1))) // the server stops reading
	resp, _ := c.read()
	if resp.StatusCode != 202 || !resp.Close {
		t.Fatalf("large unread body: status %d, close %v", resp.StatusCode, resp.Close)
	}
	if !c.closed() {
		t.Error("the connection stayed open after a large unread body")
	}
}

// TestTruncatedBody: a client that sends less than it declared and goes
// away leaves the handler an unexpected EOF.
func TestTruncatedBody(t *testing.T) {
	got := make(chan error, 1)
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	}), nil)
	c := dial(t, addr)
	c.send("POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Length: 10\r\n\r\n{}")
	c.nc.(*net.TCPConn).CloseWrite()
	if err := <-got; !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestStreaming: a flushed response streams chunked (or by a declared
// length), a large one too, and a client reads it whole.
func TestStreaming(t *testing.T) {
	large := strings.Repeat("y", maxBuffered+10)
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter)
		want    string
		chunked bool
	}{
		{"flush", func(w http.ResponseWriter) {
			io.WriteString(w, "data: 1\n\n")
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err)
			}
			io.WriteString(w, "data: 2\n\n")
		}, "data: 1\n\ndata: 2\n\n", true},
		{"declared length", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "6")
			io.WriteString(w, "abc")
			w.(http.Flusher).Flush()
			io.WriteString(w, "def")
		}, "abcdef", false},
		{"larger than the buffer", func(w http.ResponseWriter) { io.WriteString(w, large) }, large, true},
		{"buffered", func(w http.ResponseWriter) { io.WriteString(w, "whole") }, "whole", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				tt.handler(w)
			}), nil)
			resp, err := http.Post("http://"+addr+"/mcp", "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || string(b) != tt.want {
				t.Fatalf("body %q (%v), want %q", b, err, tt.want)
			}
			if chunked := len(resp.TransferEncoding) > 0; chunked != tt.chunked {
				t.Errorf("chunked %v, want %v", chunked, tt.chunked)
			}
			if fast, _ := s.Stats(); fast != 1 {
				t.Errorf("fast %d, want 1", fast)
			}
		})
	}
}

// TestHijack: a handler takes the connection over after its header went
// out, through http.ResponseController, as the gateway parks streams.
func TestHijack(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
			panic(err)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		if err := rc.Flush(); err != nil {
			panic(err)
		}
		conn, brw, err := rc.Hijack()
		if err != nil {
			panic(err)
		}
		go func() {
			defer conn.Close()
			brw.WriteString("5\r\nhello\r\n0\r\n\r\n") // the stream goes on chunked, by its new owner
			brw.Flush()
		}()
	}), nil)
	c := dial(t, addr)
	c.send(post("/mcp", `{}`))
	resp, body := c.read()
	if resp.StatusCode != 200 || body != "hello" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
}

// TestResponseHeader: what the fast lane adds and refuses in a header.
func TestResponseHeader(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "204":
			w.WriteHeader(http.StatusNoContent)
			if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
				panic(fmt.Sprint("write on 204: ", err))
			}
		case "inject":
			w.Header().Set("X-A", "a\r\nX-Injected: 1")
			w.Header()["Bad Name"] = []string{"v"}
			w.Write([]byte("<html><body>hi</body></html>"))
		case "close":
			w.Header().Set("Connection", "close")
		}
	}), nil)
	c := dial(t, addr)
	c.send(post("/mcp?case=204", ``))
	resp, body := c.read()
	if resp.StatusCode != 204 || body != "" || resp.Header.Get("Content-Length") != "" {
		t.Errorf("204: status %d body %q header %v", resp.StatusCode, body, resp.Header)
	}
	c.send(post("/mcp?case=inject", ``))
	resp, _ = c.read()
	if resp.Header.Get("X-Injected") != "" || resp.Header.Get("X-A") != "a  X-Injected: 1" {
		t.Errorf("header injection: %v", resp.Header)
	}
	if _, ok := resp.Header["Bad Name"]; ok {
		t.Error("an invalid header name was sent")
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("sniffed Content-Type %q", ct)
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	c.send(post("/mcp?case=close", ``))
	if resp, _ := c.read(); !resp.Close || !c.closed() {
		t.Error("Connection: close from the handler did not close the connection")
	}
}

// TestRequestContext: the request's context ends when its handler returns.
func TestRequestContext(t *testing.T) {
	ctxs := make(chan context.Context, 1)
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RemoteAddr == "" || r.Host != "gw" || r.Header.Get("Host") != "" {
			panic("request fields")
		}
		ctxs <- r.Context()
	}), nil)
	c := dial(t, addr)
	c.send(post("/mcp", `{}`))
	c.read()
	select {
	case <-(<-ctxs).Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the request's context did not end with its handler")
	}
}

// TestTimeouts: an idle connection and a slow header are closed.
func TestTimeouts(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(echo), func(o *Options) {
		o.IdleTimeout = 50 * time.Millisecond
		o.ReadHeaderTimeout = 50 * time.Millisecond
	})
	c := dial(t, addr)
	c.send(post("/mcp", `{}`))
	c.read()
	if !c.closed() {
		t.Error("an idle connection was kept past the idle timeout")
	}
	c = dial(t, addr)
	c.send("POST /mcp HTTP/1.1\r\nHost: gw\r\n")
	if !c.closed() {
		t.Error("an unfinished header was waited for past the header timeout")
	}
}

// TestShutdown: Shutdown waits for a request being served, closes idle
// connections, and ends Serve.
func TestShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "block" {
			close(entered)
			<-release
		}
		w.Write([]byte("done"))
	}), nil)
	idle := dial(t, addr)
	idle.send(post("/mcp", `{}`))
	idle.read()
	busy := dial(t, addr)
	busy.send(post("/mcp?block", `{}`))
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	if !idle.closed() {
		t.Fatal("an idle connection stayed open during shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	close(release)
	resp, body := busy.read()
	if body != "done" || !resp.Close {
		t.Errorf("in-flight request: body %q, close %v", body, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestPanic: a handler's panic closes its connection, not the server.
func TestPanic(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "panic" {
			panic("boom")
		}
		w.Write([]byte("ok"))
	}), nil)
	c := dial(t, addr)
	c.send(post("/mcp?panic", `{}`))
	if !c.closed() {
		t.Error("the connection of a panicking handler stayed open")
	}
	c = dial(t, addr)
	c.send(post("/mcp", `{}`))
	if _, body := c.read(); body != "ok" {
		t.Errorf("after a panic: body %q", body)
	}
}

// TestNetHTTPOnly: the switch sends every connection to net/http.
func TestNetHTTPOnly(t *testing.T) {
	s, addr := start(t, http.HandlerFunc(echo), func(o *Options) { o.NetHTTPOnly = true })
	c := dial(t, addr)
	c.send(post("/mcp", `{}`))
	if _, body := c.read(); body != `{}` {
		t.Fatalf("body %q", body)
	}
	if fast, handed := s.Stats(); fast != 0 || handed != 1 {
		t.Errorf("fast %d, handed off %d", fast, handed)
	}
}

// watched installs a hook that signals each watch's start.
func watched(t *testing.T) <-chan struct{} {
	ch := make(chan struct{}, 4)
	hook := func() {
		select {
		case ch <- struct{}{}:
		default: // a test that stopped listening
		}
	}
	testHookWatching.Store(&hook)
	t.Cleanup(func() { testHookWatching.Store(nil) })
	return ch
}

// TestClientGoneCancels: a client that closes its connection while a slow
// request runs cancels the request's context (the 2026-07-28 way to cancel
// a call), and the connection ends.
func TestClientGoneCancels(t *testing.T) {
	watching := watched(t)
	cancelled := make(chan error, 1)
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		<-r.Context().Done()
		cancelled <- r.Context().Err()
	}), nil)
	c := dial(t, addr)
	c.send(post("/mcp", `{"slow":true}`))
	<-watching
	c.nc.Close()
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("context error %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request's context outlived its client")
	}
}

// TestWatchKeepsPipelined: a request sent while a slow one is watched is
// served after it, whole (the watch's byte goes back in front).
func TestWatchKeepsPipelined(t *testing.T) {
	watching := watched(t)
	release := make(chan struct{})
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) == "slow" {
			<-release
			if err := r.Context().Err(); err != nil {
				panic("a pipelined request cancelled the slow one")
			}
		}
		w.Write(b)
	}), nil)
	c := dial(t, addr)
	c.send(post("/mcp", "slow"))
	<-watching
	c.send(post("/mcp", "next"))
	// The watch has read the pipelined request's first byte, or will: the
	// answers are the same either way.
	close(release)
	for _, want := range []string{"slow", "next"} {
		if _, body := c.read(); body != want {
			t.Fatalf("body %q, want %q", body, want)
		}
	}
}

// TestHijackWhileWatched: a handler that hijacks after the watch started
// owns the connection's reads (the watch ends first).
func TestHijackWhileWatched(t *testing.T) {
	watching := watched(t)
	hijack := make(chan struct{})
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		<-hijack
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		go func() {
			defer conn.Close()
			line, err := brw.ReadString('\n') // what the client sends next
			if err != nil {
				return
			}
			brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: " + fmt.Sprint(len(line)) + "\r\n\r\n" + line)
			brw.Flush()
		}()
	}), nil)
	c := dial(t, addr)
	c.send(post("/mcp", `{}`))
	<-watching
	c.send("ping\n") // read by the watch (its first byte) or not yet: the same to the hijacker
	close(hijack)
	if _, body := c.read(); body != "ping\n" {
		t.Fatalf("body %q", body)
	}
}

// TestExpectContinue: a client that asks for 100 Continue (curl does for
// bodies over 1 KiB) is served by net/http, which sends it.
func TestExpectContinue(t *testing.T) {
	s, addr := start(t, http.HandlerFunc(echo), nil)
	body := strings.Repeat("z", 2000)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != body {
		t.Fatalf("status %d, body of %d bytes", resp.StatusCode, len(got))
	}
	if fast, handed := s.Stats(); fast != 0 || handed != 1 {
		t.Errorf("fast %d, handed off %d; want 0 and 1", fast, handed)
	}
}

// TestUnparseableTarget: the one request the lane takes that net/http's
// parser refuses (a target that is no URI, when Fast lets it through) is
// answered 400 with a JSON error, and the connection closes.
func TestUnparseableTarget(t *testing.T) {
	s, addr := start(t, http.HandlerFunc(echo), func(o *Options) { o.Fast = acceptAll })
	c := dial(t, addr)
	c.send("POST /%zz HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}")
	resp, body := c.read()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/json" ||
		!strings.Contains(body, `"error":"bad_request"`) || !resp.Close {
		t.Fatalf("status %d, type %q, close %v, body %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Close, body)
	}
	if !c.closed() {
		t.Error("the connection stayed open")
	}
	if fast, handed := s.Stats(); fast != 0 || handed != 0 {
		t.Errorf("fast %d, handed off %d; want neither", fast, handed)
	}
}
