package sse

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHijack: a stream taken over from net/http goes on as the same
// response body, chunked for HTTP/1.1 and raw for HTTP/1.0, and ends
// cleanly (the last chunk, or the connection closing).
func TestHijack(t *testing.T) {
	big := strings.Repeat("y", 70<<10) // larger than a pooled buffer
	want := "event: a\ndata: before\n\n" + "event: b\ndata: after\n\n" + ": ping\n\n" + "event: c\ndata: " + big + "\n\n"
	tests := []struct {
		name    string
		proto   string
		chunked bool
	}{
		{"HTTP/1.1", "HTTP/1.1", true},
		{"HTTP/1.0", "HTTP/1.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			written := make(chan int64, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := Start(w, time.Second)
				s.Event(nil, "a", []byte("before"))
				conn, extra, err := s.Hijack(r.ProtoAtLeast(1, 1))
				if err != nil || conn == nil || extra || !s.Hijacked() {
					t.Errorf("Hijack: %v, %v, %v", conn, extra, err)
					return
				}
				go func() { // the handler returns; the stream goes on
					s.Event(nil, "b", []byte("after"))
					s.Comment("ping")
					if err := s.Flush(); err != nil {
						t.Errorf("Flush: %v", err)
					}
					s.Event(nil, "c", []byte(big))
					if err := s.Flush(); err != nil {
						t.Errorf("Flush: %v", err)
					}
					written <- s.Written()
					if err := s.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
					if err := s.Flush(); !errors.Is(err, ErrHijacked) {
						t.Errorf("Flush after Close: %v, want ErrHijacked", err)
					}
				}()
			}))
			defer srv.Close()
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "GET / %s\r\nHost: x\r\n\r\n", tt.proto)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked"; got != tt.chunked {
				t.Errorf("chunked: %v, want %v", got, tt.chunked)
			}
			body, err := io.ReadAll(resp.Body) // a bad chunk or no last chunk fails here
			if err != nil {
				t.Fatalf("reading the body: %v", err)
			}
			if string(body) != want {
				t.Errorf("body: got %.80q…, want %.80q…", body, want)
			}
			if got := <-written; got != int64(len(want)) {
				t.Errorf("Written: %d, want %d", got, len(want))
			}
		})
	}
}
