package httpup

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestBodySent checks bodySent where Send asks it: after a failed round
// trip.
func TestBodySent(t *testing.T) {
	// The server reads the whole request, then drops the connection
	// without answering: the round trip fails after the body was sent.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	// Nothing listens here: the round trip fails before the body is read.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	const body = `{"jsonrpc":"2.0","method":"x"}`
	for _, tt := range []struct {
		name string
		url  string
		want bool
	}{
		{"refused before the body", closed, false},
		{"read, then no answer", srv.URL, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := setBody(req, []byte(body))
			if req.ContentLength != int64(len(body)) {
				t.Errorf("ContentLength = %d, want %d", req.ContentLength, len(body))
			}
			if resp, err := srv.Client().Transport.RoundTrip(req); err == nil {
				resp.Body.Close()
				t.Fatal("round trip succeeded, want it to fail")
			}
			if got := bodySent(r); got != tt.want {
				t.Errorf("bodySent = %v, want %v", got, tt.want)
			}
			again, err := req.GetBody()
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(again); string(b) != body {
				t.Errorf("GetBody gave %q, want %q", b, body)
			}
		})
	}
}

// TestPostOneWrite: a POST's headers and body leave in one write, not
// the headers flushed first (setBody's body is a type net/http knows to
// be in memory).
func TestPostOneWrite(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	var writes atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return &countingConn{Conn: c, writes: &writes}, err
	}}
	defer tr.CloseIdleConnections()
	for _, body := range []string{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, strings.Repeat("x", 2000)} {
		writes.Store(0)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		setBody(req, []byte(body))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := writes.Load(); got != 1 {
			t.Errorf("a POST of %d bytes took %d writes, want 1", len(body), got)
		}
	}
}

type countingConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}
