package httpkit

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
)

// corpus reads a testdata file of one value per line (see its header).
func corpus(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, `"`) {
			v, err := strconv.Unquote(line)
			if err != nil {
				t.Fatalf("%s: bad quoted line %s: %v", name, line, err)
			}
			line = v
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 20 {
		t.Fatalf("%s: only %d entries", name, len(out))
	}
	return out
}

func request(host string, origins ...string) *http.Request {
	r := httptest.NewRequest("POST", "http://placeholder/mcp", nil)
	r.Host = host
	for _, o := range origins {
		r.Header.Add("Origin", o)
	}
	return r
}

func mustGuard(t *testing.T, opts GuardOptions) *Guard {
	t.Helper()
	g, err := NewGuard(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGuardHostileHosts(t *testing.T) {
	g := mustGuard(t, GuardOptions{Loopback: true})
	for _, h := range corpus(t, "hostile_hosts.txt") {
		if err := g.Check(request(h)); !errors.Is(err, ErrForbiddenHost) {
			t.Errorf("Host %q: got %v, want ErrForbiddenHost", h, err)
		}
	}
}

func TestGuardHostileOrigins(t *testing.T) {
	g := mustGuard(t, GuardOptions{Loopback: true, AllowedOrigins: []string{"https://app.example.com"}})
	for _, o := range corpus(t, "hostile_origins.txt") {
		if err := g.Check(request("localhost:8080", o)); !errors.Is(err, ErrForbiddenOrigin) {
			t.Errorf("Origin %q: got %v, want ErrForbiddenOrigin", o, err)
		}
	}
}

func TestGuardCheck(t *testing.T) {
	loop := GuardOptions{Loopback: true}
	public := GuardOptions{
		AllowedHosts:   []string{"mcp.example.com", "alt.example.com:8443", "[2001:db8::1]"},
		AllowedOrigins: []string{"https://app.example.com", "HTTP://Dev.Example.com:80"},
	}
	tests := []struct {
		name    string
		opts    GuardOptions
		host    string
		origins []string
		want    error
	}{
		{"loopback name", loop, "localhost", nil, nil},
		{"loopback name and port", loop, "localhost:8080", nil, nil},
		{"loopback upper case", loop, "LOCALHOST:8080", nil, nil},
		{"loopback v4", loop, "127.0.0.1:3000", nil, nil},
		{"loopback v6", loop, "[::1]:3000", nil, nil},
		{"loopback v6 long form", loop, "[0:0:0:0:0:0:0:1]", nil, nil},
		{"loopback origin", loop, "localhost:8080", []string{"http://localhost:5173"}, nil},
		{"loopback origin https v6", loop, "[::1]:8080", []string{"https://[::1]:8443"}, nil},
		{"loopback origin v4", loop, "127.0.0.1:8080", []string{"http://127.0.0.1"}, nil},
		{"rebinding", loop, "evil.example.com:8080", []string{"http://evil.example.com:8080"}, ErrForbiddenHost},
		{"good host bad origin", loop, "localhost:8080", []string{"http://evil.example.com"}, ErrForbiddenOrigin},
		{"two origins", loop, "localhost", []string{"http://localhost", "http://localhost"}, ErrForbiddenOrigin},
		{"no host", loop, "", nil, ErrForbiddenHost},
		{"public host", public, "mcp.example.com", nil, nil},
		{"public host any port", public, "mcp.example.com:443", nil, nil},
		{"public host fixed port", public, "alt.example.com:8443", nil, nil},
		{"public host wrong port", public, "alt.example.com:9443", nil, ErrForbiddenHost},
		{"public host no port", public, "alt.example.com", nil, ErrForbiddenHost},
		{"public v6 host", public, "[2001:db8::1]:443", nil, nil},
		{"public refuses loopback", public, "localhost", nil, ErrForbiddenHost},
		{"public origin", public, "mcp.example.com", []string{"https://app.example.com"}, nil},
		{"public origin default port", public, "mcp.example.com", []string{"https://app.example.com:443"}, nil},
		{"public origin normalized", public, "mcp.example.com", []string{"http://dev.example.com"}, nil},
		{"public origin refused", public, "mcp.example.com", []string{"https://evil.example.com"}, ErrForbiddenOrigin},
		{"public refuses loopback origin", public, "mcp.example.com", []string{"http://localhost"}, ErrForbiddenOrigin},
		{"zero value: any host", GuardOptions{}, "anything.example", nil, nil},
		{"zero value: no origin allowed", GuardOptions{}, "anything.example", []string{"https://anything.example"}, ErrForbiddenOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustGuard(t, tt.opts)
			if got := g.Check(request(tt.host, tt.origins...)); got != tt.want {
				t.Errorf("Check(Host %q, Origin %q) = %v, want %v", tt.host, tt.origins, got, tt.want)
			}
		})
	}
}

func TestNewGuardRefusesBadOptions(t *testing.T) {
	for _, opts := range []GuardOptions{
		{AllowedHosts: []string{"exa mple.com"}},
		{AllowedHosts: []string{"example.com:0"}},
		{AllowedOrigins: []string{"*"}},
		{AllowedOrigins: []string{"https://app.example.com/"}},
		{AllowedOrigins: []string{"null"}},
	} {
		if _, err := NewGuard(opts); err == nil {
			t.Errorf("NewGuard(%+v) succeeded, want an error", opts)
		}
	}
}

func TestGuardHandler(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	t.Run("JSON", func(t *testing.T) {
		g := mustGuard(t, GuardOptions{Loopback: true})
		h := Chain(Edge(nil), g.Handler)(next)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request("evil.example.com"))
		if w.Code != http.StatusForbidden {
			t.Fatalf("status: got %d, want 403", w.Code)
		}
		var body errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", w.Body, err)
		}
		if body.Error != "forbidden_host" || body.Message == "" || body.RequestID != w.Header().Get(HeaderRequestID) || body.RequestID == "" {
			t.Errorf("body: got %+v (request ID header %q)", body, w.Header().Get(HeaderRequestID))
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, request("localhost:1234", "http://localhost:1234"))
		if w.Code != http.StatusNoContent {
			t.Errorf("allowed request: got %d, want 204", w.Code)
		}
	})
	t.Run("custom writer", func(t *testing.T) {
		var got *Error
		g := mustGuard(t, GuardOptions{Loopback: true, WriteError: func(w http.ResponseWriter, r *http.Request, e *Error) {
			got = e
			w.WriteHeader(e.Status)
		}})
		w := httptest.NewRecorder()
		g.Handler(next).ServeHTTP(w, request("localhost", "http://evil.example.com"))
		if w.Code != http.StatusForbidden || got != ErrForbiddenOrigin {
			t.Errorf("got status %d, error %v; want 403, ErrForbiddenOrigin", w.Code, got)
		}
	})
}

func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{"http://localhost", "https://[::1]:8443", "null", "http://a@b", "http://localhost:080"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, host, ok := parseOrigin(s)
		if !ok {
			return
		}
		// A normalized origin parses to itself.
		n2, host2, ok2 := parseOrigin(n)
		if !ok2 || n2 != n || host2 != host {
			t.Fatalf("parseOrigin(%q) = %q; reparsed: %q, %q, %v", s, n, n2, host2, ok2)
		}
		_, rest, _ := strings.Cut(n, "://")
		for i := 0; i < len(rest); i++ {
			if c := rest[i]; c <= 0x20 || c >= 0x7f || strings.IndexByte("@/\\?#%", c) >= 0 {
				t.Fatalf("parseOrigin(%q) accepted byte %q", s, c)
			}
		}
	})
}
