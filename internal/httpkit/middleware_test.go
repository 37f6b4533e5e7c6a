package httpkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/mcpgate/mcpgate/internal/logtest"
)

// logBuffer collects logs for tests to search.
type logBuffer = logtest.Sink

// logLines decodes the log lines with the given message.
func logLines(t *testing.T, l *logBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func decodeError(t *testing.T, body []byte) errorBody {
	t.Helper()
	var e errorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e
}

func TestHandleWritesPublicPartOnly(t *testing.T) {
	var logs logBuffer
	secret := errors.New("dial tcp 10.0.0.7:6379: secret detail")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantLog    string
	}{
		{"http error", &Error{Status: 404, Code: "not_found", Message: "no such thing", Err: secret}, 404, "not_found", "request refused"},
		{"wrapped http error", fmt.Errorf("looking up: %w", NewError(409, "conflict", "busy")), 409, "conflict", ""},
		{"internal error", secret, 500, "internal_error", "request failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Chain(Edge(nil))(Handle(logs.Logger(), func(http.ResponseWriter, *http.Request) error { return tt.err }))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
			if w.Code != tt.wantStatus {
				t.Errorf("status: got %d, want %d", w.Code, tt.wantStatus)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type: got %q", ct)
			}
			body := decodeError(t, w.Body.Bytes())
			if body.Error != tt.wantCode || body.RequestID == "" || body.RequestID != w.Header().Get(HeaderRequestID) {
				t.Errorf("body: got %+v", body)
			}
			if strings.Contains(w.Body.String(), "secret") {
				t.Errorf("body leaks the internal error: %s", w.Body)
			}
			if tt.wantLog != "" {
				found := false
				for _, l := range logLines(t, &logs, tt.wantLog) {
					if l["request_id"] == body.RequestID && strings.Contains(fmt.Sprint(l["err"]), "secret detail") {
						found = true
					}
				}
				if !found {
					t.Errorf("no %q log line with the request ID and the detail; log:\n%s", tt.wantLog, logs.String())
				}
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, RequestIDFromContext(r.Context())) })
	tests := []struct {
		name     string
		opts     *EdgeOptions
		incoming string
		keep     bool
	}{
		{"generated", nil, "", false},
		{"untrusted incoming ignored", nil, "abc-123", false},
		{"trusted incoming kept", &EdgeOptions{TrustIncomingRequestID: true}, "abc-123", true},
		{"trusted but malformed", &EdgeOptions{TrustIncomingRequestID: true}, "abc 123\n", false},
		{"trusted but too long", &EdgeOptions{TrustIncomingRequestID: true}, strings.Repeat("a", 65), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.incoming != "" {
				r.Header.Set(HeaderRequestID, tt.incoming)
			}
			w := httptest.NewRecorder()
			Edge(tt.opts)(echo).ServeHTTP(w, r)
			got, hdr := w.Body.String(), w.Header().Get(HeaderRequestID)
			if got != hdr || !validRequestID(got) {
				t.Fatalf("context ID %q, header %q", got, hdr)
			}
			if (got == tt.incoming) != tt.keep {
				t.Errorf("got ID %q with incoming %q; want kept=%v", got, tt.incoming, tt.keep)
			}
		})
	}
}

func TestRecover(t *testing.T) {
	var logs logBuffer
	log := logs.Logger()
	t.Run("before writing", func(t *testing.T) {
		h := Edge(&EdgeOptions{Log: log})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("boom: secret")
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/p", nil))
		if w.Code != 500 {
			t.Fatalf("status: got %d, want 500", w.Code)
		}
		if body := decodeError(t, w.Body.Bytes()); body.Error != "internal_error" || strings.Contains(w.Body.String(), "secret") {
			t.Errorf("body: %s", w.Body)
		}
		panics := logLines(t, &logs, "panic serving request")
		if len(panics) != 1 || !strings.Contains(fmt.Sprint(panics[0]["stack"]), "middleware_test.go") {
			t.Errorf("panic log: %v", panics)
		}
		access := logLines(t, &logs, "http request")
		if len(access) != 1 || access[0]["status"] != float64(500) {
			t.Errorf("access log: %v", access)
		}
	})
	// Recover alone (the demo server's) and Edge behave alike.
	for name, mw := range map[string]Middleware{"recover": Recover(log), "edge": Edge(&EdgeOptions{Log: log})} {
		t.Run(name+"/before writing alone", func(t *testing.T) {
			h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("early") }))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			if w.Code != 500 || decodeError(t, w.Body.Bytes()).Error != "internal_error" {
				t.Errorf("got %d %s, want a JSON 500", w.Code, w.Body)
			}
		})
		t.Run(name+"/after writing", func(t *testing.T) {
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "partial")
				panic("late")
			}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			resp, err := http.Get(srv.URL)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				t.Error("a response that panicked after writing arrived whole; want an aborted connection")
			}
		})
		t.Run(name+"/abort handler passes", func(t *testing.T) {
			h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
			defer func() {
				if v := recover(); v != http.ErrAbortHandler {
					t.Errorf("recovered %v, want http.ErrAbortHandler", v)
				}
			}()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		})
	}
}

func TestAccessLogOmitsSecrets(t *testing.T) {
	var logs logBuffer
	h := Edge(&EdgeOptions{Log: logs.Logger()})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "12345")
	}))
	r := httptest.NewRequest("POST", "/mcp?access_token=SECRET1", nil)
	r.Header.Set("Authorization", "Bearer SECRET2")
	r.Header.Set("Cookie", "session=SECRET3")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	lines := logLines(t, &logs, "http request")
	if len(lines) != 1 {
		t.Fatalf("access log lines: %v", logs.String())
	}
	l := lines[0]
	if l["method"] != "POST" || l["path"] != "/mcp" || l["status"] != float64(418) || l["bytes"] != float64(5) ||
		l["request_id"] != w.Header().Get(HeaderRequestID) {
		t.Errorf("access log line: %v", l)
	}
	if _, ok := l["duration"]; !ok {
		t.Errorf("access log line has no duration: %v", l)
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("access log holds a secret: %s", logs.String())
	}
}

func TestAccessLogKeepsFlusher(t *testing.T) {
	flushed := false
	h := Edge(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flushed = http.NewResponseController(w).Flush() == nil
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if !flushed {
		t.Error("Flush through the access log wrapper failed")
	}
}

func TestBodyLimit(t *testing.T) {
	var readErr error
	h := BodyLimit(10, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
		if IsTooLarge(readErr) {
			WriteJSON(w, r, TooLarge)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	tests := []struct {
		name    string
		body    io.Reader
		length  int64
		want    int
		tooLong bool
	}{
		{"small", strings.NewReader("12345"), 5, 204, false},
		{"declared too large", strings.NewReader(strings.Repeat("x", 11)), 11, 413, false},
		{"chunked too large", io.MultiReader(strings.NewReader(strings.Repeat("x", 20))), -1, 413, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readErr = nil
			req, _ := http.NewRequest("POST", srv.URL, tt.body)
			req.ContentLength = tt.length
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 413 {
				if e := decodeError(t, body); e.Error != "payload_too_large" {
					t.Errorf("body: %s", body)
				}
			}
			if IsTooLarge(readErr) != tt.tooLong {
				t.Errorf("handler read error %v; want too large = %v", readErr, tt.tooLong)
			}
		})
	}
}

func TestChainOrder(t *testing.T) {
	var order []string
	mw := func(name string) Middleware {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	Chain(mw("a"), mw("b"), mw("c"))(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if got := strings.Join(order, ""); got != "abc" {
		t.Errorf("order: got %q, want abc", got)
	}
}

func TestRequestIDUnique(t *testing.T) {
	var ids []string
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ids = append(ids, RequestIDFromContext(r.Context())) })
	a, b := Edge(nil)(echo), Edge(nil)(echo)
	for range 3 {
		for _, h := range []http.Handler{a, b} {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}
	}
	seen := make(map[string]bool)
	for _, id := range ids {
		if !validRequestID(id) || seen[id] {
			t.Fatalf("IDs %q: %q is malformed or repeated", ids, id)
		}
		seen[id] = true
	}
}

// BenchmarkEdge is the edge layer of every request, as the gateway uses
// it, around a handler that writes and flushes.
func BenchmarkEdge(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	h := Edge(&EdgeOptions{Log: log})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_ = http.NewResponseController(w).Flush()
	}))
	r := httptest.NewRequest("POST", "/mcp", nil)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// nopWriter is a ResponseWriter that costs nothing, so that benchmarks
// measure the middleware.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}
func (w *nopWriter) Flush()                      {}

// TestEdgeDate: every response carries one Date, set when the header goes
// out (not when the request began), a handler's own Date wins, and one
// second's responses share one formatted value.
func TestEdgeDate(t *testing.T) {
	release := make(chan struct{})
	h := Edge(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/own":
			w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
		case "/slow":
			<-release
		}
		io.WriteString(w, "ok")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) http.Header {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header
	}
	before := time.Now().Truncate(time.Second)
	hdr := get("/")
	if len(hdr.Values("Date")) != 1 {
		t.Fatalf("Date headers: %q, want one", hdr.Values("Date"))
	}
	d, err := http.ParseTime(hdr.Get("Date"))
	if err != nil || d.Before(before) || d.After(time.Now()) {
		t.Errorf("Date %q (%v): want now in RFC 9110 format", hdr.Get("Date"), err)
	}
	if got := get("/own").Get("Date"); got != "Mon, 02 Jan 2006 15:04:05 GMT" {
		t.Errorf("handler's Date replaced: got %q", got)
	}

	// A slow handler's Date is when it answered: hold it past a second.
	done := make(chan http.Header)
	go func() {
		resp, err := http.Get(srv.URL + "/slow")
		if err != nil {
			done <- nil
			return
		}
		resp.Body.Close()
		done <- resp.Header
	}()
	started := time.Now()
	for time.Now().Unix() <= started.Unix() { // until the next second begins
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	slow := <-done
	if slow == nil {
		t.Fatal("slow request failed")
	}
	if d, _ := http.ParseTime(slow.Get("Date")); d.Unix() <= started.Unix() {
		t.Errorf("slow response's Date %q is from before it answered (started %v)", slow.Get("Date"), started)
	}

	now := time.Now()
	a, b := httpDate(now), httpDate(now)
	if &a[0] != &b[0] || cap(a) != 1 {
		t.Error("one second's Date values are not one shared, full slice")
	}
}

// TestEdgeContextKeepsNoWriter: a request's context outlives its handler
// (a parked SSE stream keeps it for the stream's life), so it must not
// keep the ResponseWriter, and with it net/http's per-connection buffers,
// alive: that cost 8 kB per idle stream once.
func TestEdgeContextKeepsNoWriter(t *testing.T) {
	w := &nopWriter{h: http.Header{}}
	wp := weak.Make(w)
	var kept context.Context
	Edge(nil)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		kept = r.Context()
	})).ServeHTTP(w, httptest.NewRequest("GET", "/sse", nil))
	w = nil
	for range 3 {
		runtime.GC()
	}
	if wp.Value() != nil {
		t.Error("the request's context keeps the ResponseWriter alive after the handler returned")
	}
	if RequestIDFromContext(kept) == "" {
		t.Error("the kept context lost its request ID")
	}
}
