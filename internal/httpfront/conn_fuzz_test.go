package httpfront

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// FuzzConn writes arbitrary bytes on a connection to a running server:
// whatever they are (one request, several, garbage, a header cut short),
// the server neither panics nor hangs — it answers, hands off or closes —
// and keeps serving the next client.
func FuzzConn(f *testing.F) {
	for _, seed := range []string{
		post("/mcp", `{"a":1}`),
		post("/mcp", `1`) + post("/mcp", `22`),
		post("/mcp", `{}`) + "GET /mcp HTTP/1.1\r\nHost: gw\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\n{}",
		"POST /mcp HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}POST /mcp HTTP/1.1\r\nHost: gw\nContent-Length: 2\r\n\r\n{}",
		"\r\n\r\n",
		"",
		post("/mcp?hold", `{}`) + post("/mcp?release", `{}`) + post("/mcp?slow", `{}`) + post("/mcp", `{}`),
		post("/mcp?release", `{"unread":true}`) + "POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Length: 9\r\n\r\n{",
	} {
		f.Add([]byte(seed))
	}
	// Requests with a query hold their answer (Hold): returned before
	// MaxHold, released by the handler, or sent by the sweep.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			echo(w, r)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		held, ok := Hold(w)
		if !ok {
			return // net/http's lane
		}
		switch r.URL.RawQuery {
		case "release":
			held.Release()
		case "slow":
			time.Sleep(3 * time.Millisecond) // past MaxHold: the sweep sends it
		}
	})
	_, addr := start(f, h, func(o *Options) {
		o.ReadHeaderTimeout = 200 * time.Millisecond
		o.IdleTimeout = 200 * time.Millisecond
		o.MaxHold = time.Millisecond
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			nc.Write(in)
			nc.(*net.TCPConn).CloseWrite()
		}()
		// The server ends the connection: after its answers, at its
		// timeouts, or at once. A read past the deadline is a hang.
		if _, err := io.Copy(io.Discard, nc); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server neither answered nor closed for %q", in)
			}
		}
		c := dial(t, addr)
		c.send(post("/mcp", `{"next":true}`))
		if _, body := c.read(); body != `{"next":true}` {
			t.Fatalf("after %q the next client got %q", in, body)
		}
	})
}
