package h1

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countConns counts the connections a test server accepts.
func countConns(srv *httptest.Server) *atomic.Int64 {
	var n atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

func newTransport() *Transport {
	return New(&http.Transport{MaxIdleConnsPerHost: 4, MaxResponseHeaderBytes: 4 << 10})
}

func post(t *testing.T, tr http.RoundTripper, ctx context.Context, u, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return tr.RoundTrip(req)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestKeepAlive: sequential requests, JSON and chunked answers, share one
// connection; the request arrives as sent (method, path, headers, body).
func TestKeepAlive(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("chunked") != "" {
			w.Write([]byte("{"))
			w.(http.Flusher).Flush()
		}
		fmt.Fprintf(w, `%s %s %s %s`, r.Method, r.URL.Path, r.Header.Get("Content-Type"), b)
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	tr := newTransport()
	defer tr.CloseIdleConnections()
	for i, q := range []string{"", "?chunked=1", "", "?chunked=1"} {
		resp, err := post(t, tr, context.Background(), srv.URL+"/mcp"+q, fmt.Sprintf(`{"n":%d}`, i))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		want := fmt.Sprintf(`POST /mcp application/json {"n":%d}`, i)
		if q != "" {
			want = "{" + want
		}
		if got := readAll(t, resp); got != want || resp.StatusCode != 200 {
			t.Errorf("request %d: %d %q, want 200 %q", i, resp.StatusCode, got, want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("connections: %d, want 1 (kept alive)", n)
	}
}

// TestStreamCancel: a streamed body is read as it comes; the request's
// context ending aborts a read that waits, with the context's error, and
// that connection is not reused.
func TestStreamCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: one\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "ok")
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	tr := newTransport()
	defer tr.CloseIdleConnections()

	ctx, cancel := context.WithCancelCause(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/stream", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if line, _ := br.ReadString('\n'); line != "data: one\n" {
		t.Fatalf("first line %q", line)
	}
	errGone := errors.New("stream no longer wanted")
	go func() {
		// Cancel once the reader is blocked: any moment works, since the
		// deadline fails a read that has not started as well.
		cancel(errGone)
	}()
	_, err = io.ReadAll(br)
	if !errors.Is(err, errGone) {
		t.Errorf("read after cancel: %v, want the context's cause", err)
	}
	resp.Body.Close()

	resp, err = post(t, tr, context.Background(), srv.URL+"/after", "{}")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if n := conns.Load(); n != 2 {
		t.Errorf("connections: %d, want 2 (the cancelled one is not reused)", n)
	}
}

// TestCloseEarly: a body closed before its end closes its connection; one
// read to its end is kept.
func TestCloseEarly(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 64<<10))
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	tr := newTransport()
	defer tr.CloseIdleConnections()
	resp, err := post(t, tr, context.Background(), srv.URL, "{}")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Read(make([]byte, 10))
	resp.Body.Close()
	for range 2 {
		resp, err = post(t, tr, context.Background(), srv.URL, "{}")
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, resp); len(got) != 64<<10 {
			t.Fatalf("body: %d bytes", len(got))
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("connections: %d, want 2 (one closed early, one kept)", n)
	}
}

// scripted is a raw TCP server: each accepted connection runs serve.
func scripted(t *testing.T, serve func(n int, c net.Conn, br *bufio.Reader)) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			i := int(n.Add(1))
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(i, c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + ln.Addr().String(), &n
}

// readRequest reads one request and its body from br.
func readRequest(br *bufio.Reader) (*http.Request, string, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(req.Body)
	return req, string(b), err
}

const okResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

// TestIdleClosed: a kept-alive connection the server has closed is seen
// before it is used (the request goes on a new connection, whole); one the
// server closes after reading a request, without answering, fails a POST
// (never sent twice) and is retried for a GET.
func TestIdleClosed(t *testing.T) {
	var bodies sync.Map
	closed := make(chan struct{}, 8)
	u, conns := scripted(t, func(n int, c net.Conn, br *bufio.Reader) {
		req, body, err := readRequest(br)
		if err != nil {
			return
		}
		bodies.Store(n, body)
		if req.Header.Get("X-Mode") == "crash" {
			return // read the request, never answer
		}
		io.WriteString(c, okResponse) // keep-alive promised...
		c.Close()                     // ...then closed
		closed <- struct{}{}
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	for i := range 3 {
		resp, err := post(t, tr, context.Background(), u, fmt.Sprintf(`{"call":%d}`, i))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got := readAll(t, resp); got != "{}" {
			t.Fatalf("request %d: body %q", i, got)
		}
		<-closed
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("connections: %d, want 3 (a closed one is never used)", n)
	}
	if b, _ := bodies.Load(3); b != `{"call":2}` {
		t.Errorf("third request's body: %q", b)
	}

	// The server dies with the request read: a POST fails, on the
	// connection it was sent on only.
	serverCrash := func(method string) (*http.Response, error) {
		t.Helper()
		resp, err := post(t, tr, context.Background(), u, "{}") // a kept connection...
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		<-closed // ...that the server has closed: the next dials again
		req, _ := http.NewRequest(method, u, nil)
		req.Header.Set("X-Mode", "crash")
		return tr.RoundTrip(req)
	}
	before := conns.Load()
	if _, err := serverCrash(http.MethodPost); err == nil {
		t.Error("a POST the server read and never answered: no error")
	}
	if n := conns.Load() - before; n != 2 {
		t.Errorf("POST: %d connections, want 2 (no second attempt)", n)
	}
}

// TestCrashRetriedOnlyIfReplayable: on a kept connection that fails after
// the request was written and before any response byte, GET is sent again
// and POST is not.
func TestCrashRetriedOnlyIfReplayable(t *testing.T) {
	var requests atomic.Int64
	u, conns := scripted(t, func(n int, c net.Conn, br *bufio.Reader) {
		for {
			if _, _, err := readRequest(br); err != nil {
				return
			}
			if requests.Add(1) == 2 {
				return // the second request of the test dies with its connection
			}
			io.WriteString(c, okResponse)
		}
	})
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			requests.Store(0)
			start := conns.Load()
			tr := newTransport()
			defer tr.CloseIdleConnections()
			for i := range 2 {
				req, _ := http.NewRequest(method, u, strings.NewReader("{}"))
				resp, err := tr.RoundTrip(req)
				if i == 0 {
					if err != nil {
						t.Fatal(err)
					}
					readAll(t, resp)
					continue
				}
				if err == nil {
					readAll(t, resp)
				}
				if method == http.MethodGet && err != nil {
					t.Errorf("GET on a connection that died: %v, want it sent again", err)
				}
				if method == http.MethodPost && err == nil {
					t.Error("POST on a connection that died: sent again, want the error")
				}
			}
			want := int64(1)
			if method == http.MethodGet {
				want = 2
			}
			if n := conns.Load() - start; n != want {
				t.Errorf("connections: %d, want %d", n, want)
			}
		})
	}
}

// TestIdleSwept: idle connections are closed once they outlive the idle
// timeout, without further requests.
func TestIdleSwept(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") }))
	var open atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	tr := New(&http.Transport{IdleConnTimeout: 30 * time.Millisecond})
	resp, err := post(t, tr, context.Background(), srv.URL, "{}")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	deadline := time.Now().Add(10 * time.Second)
	for open.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open after the idle timeout", open.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.idle) != 0 || tr.sweeping {
		t.Errorf("pool after the sweep: %v idle, sweeping %v", tr.idle, tr.sweeping)
	}
}

// TestResponseShapes: what the parser accepts and when a connection is
// kept: 1xx before the answer, a body delimited by the connection's end,
// bytes past the response, a header over the bound, Connection: close.
func TestResponseShapes(t *testing.T) {
	tests := []struct {
		name     string
		response string
		wantBody string
		wantErr  string
		reused   bool
	}{
		{"103 then 200", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + okResponse, "{}", "", true},
		{"delimited by close", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}", "{}", "", false},
		{"bytes past the response", okResponse + "HTTP/1.1 200 OK\r\n", "{}", "", false},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", "{}", "", false},
		{"header over the bound", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\nContent-Length: 2\r\n\r\n{}", "", "response header larger than 4096 bytes", false},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", "", "malformed HTTP", false},
		{"switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", "", "switched protocols", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, conns := scripted(t, func(n int, c net.Conn, br *bufio.Reader) {
				for first := true; ; first = false {
					if _, _, err := readRequest(br); err != nil {
						return
					}
					if first && n == 1 { // the first connection's first answer
						io.WriteString(c, tt.response)
						if !strings.Contains(tt.name, "delimited") {
							continue
						}
						return // the close delimits the body
					}
					io.WriteString(c, okResponse)
				}
			})
			tr := newTransport()
			defer tr.CloseIdleConnections()
			resp, err := post(t, tr, context.Background(), u, "{}")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if got := readAll(t, resp); got != tt.wantBody {
					t.Fatalf("body %q, want %q", got, tt.wantBody)
				}
			}
			resp, err = post(t, tr, context.Background(), u, "{}")
			if err != nil {
				t.Fatalf("second request: %v", err)
			}
			readAll(t, resp)
			if reused := conns.Load() == 1; reused != tt.reused {
				t.Errorf("connections %d: reused = %v, want %v", conns.Load(), reused, tt.reused)
			}
		})
	}
}

// TestFallback: https:// and proxied hosts go to the fallback transport.
func TestFallback(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tls") }))
	defer tlsSrv.Close()
	var proxied atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.IsAbs() { // a proxy gets the absolute URL
			proxied.Add(1)
		}
		io.WriteString(w, "via proxy")
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	fb := tlsSrv.Client().Transport.(*http.Transport).Clone()
	fb.TLSClientConfig = &tls.Config{RootCAs: fb.TLSClientConfig.RootCAs}
	fb.Proxy = func(r *http.Request) (*url.URL, error) {
		if r.URL.Hostname() == "proxied.invalid" {
			return proxyURL, nil
		}
		return nil, nil
	}
	tr := New(fb)
	defer tr.CloseIdleConnections()

	resp, err := post(t, tr, context.Background(), tlsSrv.URL, "{}")
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); got != "tls" || resp.TLS == nil {
		t.Errorf("https: %q (TLS %v), want the fallback's TLS answer", got, resp.TLS != nil)
	}
	resp, err = post(t, tr, context.Background(), "http://proxied.invalid/mcp", "{}")
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); got != "via proxy" || proxied.Load() != 1 {
		t.Errorf("proxied host: %q, proxy saw %d", got, proxied.Load())
	}
}

// TestCancelBeforeAnswer: a context that ends while the server has not
// answered ends the call with its cause; one ended before the call never
// reaches the server.
func TestCancelBeforeAnswer(t *testing.T) {
	arrived := make(chan struct{}, 1)
	u, conns := scripted(t, func(n int, c net.Conn, br *bufio.Reader) {
		if _, _, err := readRequest(br); err != nil {
			return
		}
		arrived <- struct{}{}
		io.Copy(io.Discard, br) // never answers
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancelCause(context.Background())
	errDone := errors.New("call timed out")
	go func() {
		<-arrived
		cancel(errDone)
	}()
	if _, err := post(t, tr, ctx, u, "{}"); !errors.Is(err, errDone) {
		t.Errorf("err = %v, want the context's cause", err)
	}
	if _, err := post(t, tr, ctx, u, "{}"); !errors.Is(err, errDone) {
		t.Errorf("ended context: err = %v, want its cause", err)
	}
	if n := conns.Load(); n > 2 {
		t.Errorf("connections: %d", n)
	}
}

// TestConcurrent: many callers at once get their own answers, and the
// idle pool keeps at most its bound.
func TestConcurrent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	defer srv.Close()
	tr := newTransport()
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				want := fmt.Sprintf(`{"w":%d,"j":%d}`, i, j)
				req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader([]byte(want)))
				resp, err := tr.RoundTrip(req)
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != want {
					errs <- fmt.Errorf("got %q, want %q", b, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for k, cs := range tr.idle {
		if len(cs) > tr.maxIdlePerHost {
			t.Errorf("%s: %d idle connections, bound %d", k, len(cs), tr.maxIdlePerHost)
		}
	}
}

// BenchmarkRoundTrip compares the lean transport with net/http's on a
// loopback server answering a small JSON body.
func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
	}))
	defer srv.Close()
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	for _, tc := range []struct {
		name string
		tr   http.RoundTripper
	}{{"net/http", &http.Transport{MaxIdleConnsPerHost: 64}}, {"h1", New(&http.Transport{MaxIdleConnsPerHost: 64})}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
				resp, err := tc.tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
