package sse

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		name  string
		id    string
		event string
		retry time.Duration
		data  string
		want  string
	}{
		{"message", "s.1", "message", 0, `{"a":1}`, "id: s.1\nevent: message\ndata: {\"a\":1}\n\n"},
		{"priming", "s.0", "", 1500 * time.Millisecond, "", "id: s.0\nretry: 1500\ndata: \n\n"},
		{"endpoint", "", "endpoint", 0, "/messages?sessionId=x", "event: endpoint\ndata: /messages?sessionId=x\n\n"},
		{"newlines", "", "message", 0, "a\nb\r\nc\rd", "event: message\ndata: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"trailing newline", "", "", 0, "a\n", "data: a\ndata: \n\n"},
		{"hostile id", "s\n.1\r\x00", "mes\nsage", 0, "x", "id: s.1\nevent: message\ndata: x\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendEvent(nil, []byte(tt.id), tt.event, tt.retry, []byte(tt.data)))
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got, want := string(AppendComment(nil, "ping")), ": ping\n\n"; got != want {
		t.Errorf("comment: got %q, want %q", got, want)
	}
}

// TestWriter: headers that keep proxies from buffering, one write per
// flush, and the byte count.
func TestWriter(t *testing.T) {
	rec := httptest.NewRecorder()
	w := Start(rec, -1)
	w.Event(nil, "endpoint", []byte("/messages?sessionId=a"))
	w.Comment("ping")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.End()
	want := "event: endpoint\ndata: /messages?sessionId=a\n\n: ping\n\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if w.Written() != int64(len(want)) {
		t.Errorf("Written = %d, want %d", w.Written(), len(want))
	}
	for k, v := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !rec.Flushed {
		t.Error("not flushed")
	}
}

// TestWriterTimeout: a client that stops reading fails the write within
// the write timeout instead of blocking the stream forever.
func TestWriterTimeout(t *testing.T) {
	started := make(chan struct{})
	failed := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w := Start(rw, 50*time.Millisecond)
		defer w.End()
		close(started)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for {
			w.Event(nil, "message", chunk)
			if err := w.Flush(); err != nil {
				failed <- err
				return
			}
		}
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-started
	// The client reads nothing: socket buffers fill and the write times out.
	select {
	case err := <-failed:
		if err == nil {
			t.Fatal("want a write error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the write never timed out")
	}
}

// normalizeNewlines is what SSE preserves of data: every line end is LF.
func normalizeNewlines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// FuzzSSERoundTrip writes a comment, a message event and a priming event
// and checks that a conforming reader gets them back.
func FuzzSSERoundTrip(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`), "ping", uint16(1000))
	f.Add([]byte("a\r\nb\rc\n\nd"), ": x", uint16(0))
	f.Add([]byte(""), "", uint16(1))
	f.Add([]byte("data: fake\n\nid: 9\n"), "\n\n", uint16(7))
	f.Add([]byte("\xef\xbb\xbf x"), "\r", uint16(65535))
	f.Fuzz(func(t *testing.T, data []byte, comment string, retryMS uint16) {
		var b []byte
		b = AppendComment(b, comment)
		b = AppendEvent(b, []byte("st.7"), "message", 0, data)
		retry := time.Duration(retryMS) * time.Millisecond
		b = AppendEvent(b, []byte("st.0"), "", retry, nil)

		r := ssetest.NewReader(bytes.NewReader(b))
		c, err := r.Next()
		if err != nil {
			t.Fatalf("comment frame: %v (stream %q)", err, b)
		}
		var keep []byte // the writer drops CR, LF and NUL from a comment
		for _, ch := range []byte(comment) {
			if ch != '\n' && ch != '\r' && ch != 0 {
				keep = append(keep, ch)
			}
		}
		wantComment := string(keep)
		if len(c.Comments) != 1 || c.Comments[0] != wantComment || c.HasData || c.HasID {
			t.Fatalf("comment frame: got %+v, want comment %q", c, wantComment)
		}
		m, err := r.Next()
		if err != nil {
			t.Fatalf("message frame: %v (stream %q)", err, b)
		}
		if want := normalizeNewlines(string(data)); m.Data != want || !m.HasData || m.ID != "st.7" || m.Event != "message" {
			t.Fatalf("message frame: got %+v, want data %q (stream %q)", m, want, b)
		}
		p, err := r.Next()
		if err != nil {
			t.Fatalf("priming frame: %v", err)
		}
		wantRetry := ""
		if retryMS > 0 {
			wantRetry = strconv.Itoa(int(retryMS))
		}
		if p.ID != "st.0" || !p.HasData || p.Data != "" || p.Retry != wantRetry {
			t.Fatalf("priming frame: got %+v, want id st.0, empty data, retry %q", p, wantRetry)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("after the last frame: got %v, want EOF", err)
		}
	})
}

// FuzzSSEReader feeds arbitrary bytes to the test reader: it must not
// panic or loop.
func FuzzSSEReader(f *testing.F) {
	f.Add([]byte("id: 1\ndata: x\n\n: c\n\n"))
	f.Add([]byte("\r\r\n\ndata\ndata:\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := ssetest.NewReader(bytes.NewReader(in))
		for range len(in) + 1 {
			if _, err := r.Next(); err != nil {
				return
			}
		}
		t.Fatalf("more frames than bytes in %q", in)
	})
}
