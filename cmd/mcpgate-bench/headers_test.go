package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// authChecker serves next only to requests whose Authorization header is
// want, refusing others with 401 as the gateway would; it counts every
// request by method and path, and the refused ones.
type authChecker struct {
	want string
	next http.Handler

	mu      sync.Mutex     // guards seen, refused
	seen    map[string]int // "METHOD /path" → requests
	refused int
}

func newAuthChecker(want string, next http.Handler) *authChecker {
	return &authChecker{want: want, next: next, seen: map[string]int{}}
}

func (a *authChecker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ok := slices.Equal(r.Header.Values("Authorization"), []string{a.want})
	a.mu.Lock()
	a.seen[r.Method+" "+r.URL.Path]++
	if !ok {
		a.refused++
	}
	a.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	a.next.ServeHTTP(w, r)
}

// check fails t unless every request carried the header and each of kinds
// was served.
func (a *authChecker) check(t *testing.T, kinds ...string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refused != 0 {
		t.Errorf("%d of the requests came without the Authorization header (seen: %v)", a.refused, a.seen)
	}
	for _, k := range kinds {
		if a.seen[k] == 0 {
			t.Errorf("no %s request was made (seen: %v)", k, a.seen)
		}
	}
}

// TestExtraHeadersOnEveryRequest: the extra headers reach the server on
// every request of every HTTP path of the load client: initialize, the
// notification, calls and DELETE of Streamable HTTP sessions, stateless
// requests, the legacy GET /sse and its POSTs, and churned sessions.
func TestExtraHeadersOnEveryRequest(t *testing.T) {
	token, _, err := newBenchToken()
	if err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + token
	hdr := http.Header{"authorization": {bearer}} // not canonical: the client canonicalises it
	tests := []struct {
		name   string
		legacy bool
		run    func(ctx context.Context, base string) (*result, error)
		kinds  []string
	}{
		{"streamable sessions", false, func(ctx context.Context, base string) (*result, error) {
			return runTarget(ctx, target{Transport: transportStreamable, URL: base + "/mcp", Call: defaultCall, Header: hdr}, 2, 0, testRun)
		}, []string{"POST /mcp", "DELETE /mcp"}},
		{"stateless", false, func(ctx context.Context, base string) (*result, error) {
			return runTarget(ctx, target{Transport: transportStateless, URL: base + "/mcp", Call: defaultCall, Header: hdr}, 2, 0, testRun)
		}, []string{"POST /mcp"}},
		{"legacy SSE, shared sessions", true, func(ctx context.Context, base string) (*result, error) {
			return runTarget(ctx, target{Transport: transportSSE, URL: base + "/sse", Call: defaultCall, Sessions: 1, Header: hdr}, 2, 0, testRun)
		}, []string{"GET /sse", "POST /messages"}},
		{"legacy SSE, a session per worker", true, func(ctx context.Context, base string) (*result, error) {
			return runTarget(ctx, target{Transport: transportSSE, URL: base + "/sse", Call: defaultCall, Header: hdr}, 2, 0, testRun)
		}, []string{"GET /sse", "POST /messages"}},
		{"churn", false, func(ctx context.Context, base string) (*result, error) {
			u, _ := url.Parse(base + "/mcp")
			return runChurn(ctx, u, defaultCall, hdr, 2, 0, testRun)
		}, []string{"POST /mcp", "DELETE /mcp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var next http.Handler = floorHandler()
			if tt.legacy {
				next = legacyHandler(false)
			}
			a := newAuthChecker(bearer, next)
			srv := httptest.NewServer(a)
			defer srv.Close()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r, err := tt.run(ctx, srv.URL)
			checkRun(t, r, err)
			a.check(t, tt.kinds...)
		})
	}
}

// TestRefusedTokenNotPrinted: a server that refuses the credential fails
// the run, and the error does not repeat the token.
func TestRefusedTokenNotPrinted(t *testing.T) {
	token, _, err := newBenchToken()
	if err != nil {
		t.Fatal(err)
	}
	a := newAuthChecker("Bearer "+token, floorHandler())
	srv := httptest.NewServer(a)
	defer srv.Close()
	wrong := token + "x"
	for _, transport := range []string{transportStreamable, transportStateless} {
		_, err := runTarget(t.Context(), target{Transport: transport, URL: srv.URL + "/mcp", Call: defaultCall,
			Header: http.Header{"Authorization": {"Bearer " + wrong}}}, 1, 0, testRun)
		if !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("%s: err = %v, want HTTP 401", transport, err)
		}
		if err != nil && strings.Contains(err.Error(), wrong) {
			t.Errorf("%s: the error repeats the token: %v", transport, err)
		}
	}
}

func TestHeaderFlagParses(t *testing.T) {
	var f headerFlag
	for _, v := range []string{"authorization:  Bearer abc \t", "X-Trace:1", "x-trace: 2"} {
		if err := f.Set(v); err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
	}
	if f.err != nil {
		t.Fatalf("refused: %v", f.err)
	}
	want := http.Header{"Authorization": {"Bearer abc"}, "X-Trace": {"1", "2"}}
	if diff := cmp.Diff(want, f.h); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if f.String() != "" {
		t.Errorf("String() = %q: it must not show the values", f.String())
	}
}

// TestHeaderFlagRefused: malformed -H values make load and churn exit
// with status 2, naming the flag's position, never its value.
func TestHeaderFlagRefused(t *testing.T) {
	const secret = "s3cret-token-value"
	tests := []struct {
		name string
		hs   []string
		want string
	}{
		{"no colon", []string{"Authorization Bearer " + secret}, `-H #1: want "Name: value"`},
		{"empty name", []string{": Bearer " + secret}, "-H #1: the header name is empty"},
		{"space in the name", []string{"Bad Name: " + secret}, "-H #1: the header name is empty or not an HTTP token"},
		{"empty value", []string{"Authorization:  "}, "-H #1: Authorization: empty value"},
		{"CR LF in the value", []string{"Authorization: Bearer " + secret + "\r\nX-Injected: 1"}, "-H #1: Authorization: the value holds a control character"},
		{"a header of the client", []string{"Mcp-Session-Id: " + secret}, "-H #1: Mcp-Session-Id is set by the load client itself"},
		{"framing", []string{"content-length: 1" + secret}, "-H #1: Content-Length is set by the load client itself"},
		{"the second one", []string{"X-Ok: 1", "X-Bad " + secret}, "-H #2: "},
	}
	for _, tt := range tests {
		for _, cmd := range []string{"load", "churn"} {
			t.Run(cmd+"/"+tt.name, func(t *testing.T) {
				args := []string{cmd, "-url", "http://127.0.0.1:1/mcp", "-d", "10ms"}
				for _, h := range tt.hs {
					args = append(args, "-H", h)
				}
				var out, errOut bytes.Buffer
				code := run(args, nil, &out, &errOut)
				if code != exitUsage {
					t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, errOut.String())
				}
				if !strings.Contains(errOut.String(), tt.want) {
					t.Errorf("stderr %q, want it to say %q", errOut.String(), tt.want)
				}
				if strings.Contains(errOut.String()+out.String(), secret) {
					t.Errorf("the output repeats the header's value: %q", errOut.String())
				}
			})
		}
	}
}

func TestHeaderWithStdioRefused(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"load", "-stdio", "true", "-H", "Authorization: Bearer x"}, nil, &out, &errOut)
	if code != exitUsage {
		t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, errOut.String())
	}
}

func TestCanonicalHeadersRefusesClientHeaders(t *testing.T) {
	_, err := runTarget(t.Context(), target{Transport: transportStreamable, URL: "http://127.0.0.1:1/mcp", Call: defaultCall,
		Header: http.Header{"Accept": {"text/plain"}}}, 1, 0, testRun)
	if err == nil || !strings.Contains(err.Error(), "Accept is set by the load client itself") {
		t.Errorf("err = %v, want Accept refused", err)
	}
}
