package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// fakeSessions records broadcasts and returns fixed stats.
type fakeSessions struct {
	got    []string // encoded notifications
	filter mcpsession.Filter
}

func (f *fakeSessions) Stats() mcpsession.Stats {
	return mcpsession.Stats{Sessions: 2, ByTransport: map[string]int{"sse": 1, "streamable": 1}, ByUser: map[string]int{"alice": 2}}
}

func (f *fakeSessions) Broadcast(_ context.Context, msg *jsonrpc.Message, filter mcpsession.Filter) (mcpsession.BroadcastResult, error) {
	f.got = append(f.got, string(jsonrpc.Encode(msg)))
	f.filter = filter
	return mcpsession.BroadcastResult{Matched: 2, Delivered: 2}, nil
}

const token = "mcpgate_admin-test-token-0123456789"

func TestAdmin(t *testing.T) {
	fs := &fakeSessions{}
	h, err := New(fs, Options{TokenDigest: secret.DigestOf(token), MaxBodyBytes: 512})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	bearer := "Bearer " + token
	tests := []struct {
		name, method, path, auth, ctype, body string
		wantStatus                            int
		wantBody                              string // JSON, compared by value; "" skips
		wantError                             string // error code of a JSON error
	}{
		{name: "no token", method: "GET", path: "/stats", wantStatus: 401, wantError: "unauthorized"},
		{name: "wrong token", method: "GET", path: "/stats", auth: "Bearer " + token + "x", wantStatus: 401, wantError: "unauthorized"},
		{name: "basic scheme", method: "GET", path: "/stats", auth: "Basic " + token, wantStatus: 401, wantError: "unauthorized"},
		{name: "empty bearer", method: "GET", path: "/stats", auth: "Bearer ", wantStatus: 401, wantError: "unauthorized"},
		{name: "unknown path needs the token too", method: "GET", path: "/nope", wantStatus: 401, wantError: "unauthorized"},
		{name: "stats", method: "GET", path: "/stats", auth: bearer, wantStatus: 200,
			wantBody: `{"sessions":2,"by_transport":{"sse":1,"streamable":1},"by_user":{"alice":2},"sent":{"events":0,"bytes":0},"sent_by_transport":null}`},
		{name: "scheme is case-insensitive", method: "GET", path: "/stats", auth: "bearer " + token, wantStatus: 200},
		{name: "unknown path", method: "GET", path: "/nope", auth: bearer, wantStatus: 404, wantError: "not_found"},
		{name: "stats by POST", method: "POST", path: "/stats", auth: bearer, wantStatus: 405},
		{name: "broadcast", method: "POST", path: "/broadcast", auth: bearer, ctype: "application/json",
			body:       `{"method":"notifications/message","params":{"level":"warning","data":"maintenance"},"filter":{"transports":["sse"],"roles":["user"]}}`,
			wantStatus: 200, wantBody: `{"matched":2,"delivered":2,"failed":0}`},
		{name: "broadcast without params", method: "POST", path: "/broadcast", auth: bearer, ctype: "application/json",
			body: `{"method":"notifications/tools/list_changed"}`, wantStatus: 200},
		{name: "not a notification", method: "POST", path: "/broadcast", auth: bearer, ctype: "application/json",
			body: `{"method":"tools/call","params":{}}`, wantStatus: 400, wantError: "bad_request"},
		{name: "params not an object", method: "POST", path: "/broadcast", auth: bearer, ctype: "application/json",
			body: `{"method":"notifications/x","params":[1]}`, wantStatus: 400, wantError: "bad_request"},
		{name: "unknown field", method: "POST", path: "/broadcast", auth: bearer, ctype: "application/json",
			body: `{"method":"notifications/x","filter":{"user":["a"]}}`, wantStatus: 400, wantError: "bad_request"},
		{name: "not JSON", method: "POST", path: "/broadcast", auth: bearer, ctype: "text/plain", body: `{}`, wantStatus: 415, wantError: "unsupported_media_type"},
		{name: "too large", method: "POST", path: "/broadcast", auth: bearer, ctype: "application/json",
			body: `{"method":"notifications/x","params":{"s":"` + strings.Repeat("x", 600) + `"}}`, wantStatus: 413, wantError: "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, srv.Client(), tt.method, srv.URL+tt.path, tt.auth, tt.ctype, tt.body, tt.wantStatus)
			if tt.wantStatus == 401 && resp.Header.Get("WWW-Authenticate") != `Bearer realm="mcpgate-admin"` {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			if tt.wantError != "" {
				var e struct{ Error, Message string }
				if json.Unmarshal(body, &e) != nil || e.Error != tt.wantError || e.Message == "" {
					t.Errorf("body %s, want JSON error %q", body, tt.wantError)
				}
			}
			if tt.wantBody != "" {
				var got, want any
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("body %s: %v", body, err)
				}
				json.Unmarshal([]byte(tt.wantBody), &want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
		})
	}
	want := []string{
		`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"warning","data":"maintenance"}}`,
		`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`,
	}
	if diff := cmp.Diff(want, fs.got); diff != "" {
		t.Errorf("broadcasts (-want +got):\n%s", diff)
	}
}

func TestNewNeedsToken(t *testing.T) {
	if _, err := New(&fakeSessions{}, Options{}); err == nil {
		t.Error("New without a token digest succeeded")
	}
}

// do sends one request (auth and ctype are the Authorization and
// Content-Type values, "" for none), reads the whole response and fails the
// test unless its status is want.
func do(t *testing.T, c *http.Client, method, url, auth, ctype, body string, want int) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %.200s", method, url, resp.StatusCode, want, b)
	}
	return resp, b
}
