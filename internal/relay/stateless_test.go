package relay

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

func TestAddMembers(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{}`, `{"resultType":"complete","ttlMs":0}`},
		{` { } `, ` {"resultType":"complete","ttlMs":0 } `},
		{`{"tools":[]}`, `{"resultType":"complete","ttlMs":0,"tools":[]}`},
		{`{"resultType":"input_required","x":1}`, `{"ttlMs":0,"resultType":"input_required","x":1}`},
		{`{"ttlMs":5,"resultType":"complete"}`, `{"ttlMs":5,"resultType":"complete"}`},
		{`{"a":{"resultType":"nested"}}`, `{"resultType":"complete","ttlMs":0,"a":{"resultType":"nested"}}`},
		{`[1]`, `[1]`},
	}
	for _, tt := range tests {
		got := string(addMembers(json.RawMessage(tt.in), resultTypeComplete, ttlZero))
		if got != tt.want {
			t.Errorf("addMembers(%s) = %s, want %s", tt.in, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("addMembers(%s) is not JSON: %s", tt.in, got)
		}
	}
}

func TestParamMatches(t *testing.T) {
	tests := []struct {
		body, header string
		want         bool
	}{
		{`"Hello"`, "Hello", true},
		{`"Hello"`, "hello", false},
		{`"a\u00e9"`, "aé", true},
		{`42`, "42", true},
		{`42`, "42.0", true},
		{`42`, "43", false},
		{`true`, "true", true},
		{`true`, "1", false},
		{`false`, "false", true},
	}
	for _, tt := range tests {
		if got := paramMatches(json.RawMessage(tt.body), tt.header); got != tt.want {
			t.Errorf("paramMatches(%s, %q) = %v, want %v", tt.body, tt.header, got, tt.want)
		}
	}
}

// TestStatelessClient drives the relay as a 2026-07-28 client would reach
// it: discover, shaped lists and results, translated errors, the
// x-mcp-header rule, and the methods the era removed.
func TestStatelessClient(t *testing.T) {
	tools := `[{"name":"echo"},{"name":"region","inputSchema":{"type":"object","properties":{` +
		`"region":{"type":"string","x-mcp-header":"Region"},"n":{"type":"integer","x-mcp-header":"N"}}}}]`
	up := &fakeConn{name: "a", info: toolsInfo(), serve: func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == mcp.MethodResourcesRead && !strings.Contains(string(params), "test://ok") {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeResourceNotFound, Message: "Resource not found", Data: json.RawMessage(`{"uri":"test://x"}`)}
		}
		return listServer(tools, `[{"uri":"test://x","name":"x"}]`, `[]`)(ctx, method, params)
	}}
	// Lists stay fresh for an hour: ttlMs is then max_ttl's default, 60 s.
	r := newTestRelay(t, Options{ServerName: "gw", ServerVersion: "9", LegacyListTTL: time.Hour}, up)
	call := func(method, params string, hdrs map[string]string) *jsonrpc.Message {
		t.Helper()
		c := &Client{SessionID: "stateless-1", Stateless: true, ParamHeaders: hdrs}
		return r.HandleRequest(context.Background(), c, request(1, method, params), newRecStream())
	}
	t.Run("discover", func(t *testing.T) {
		resp := call(mcp.MethodServerDiscover, "", nil)
		var res struct {
			SupportedVersions []string                   `json:"supportedVersions"`
			Capabilities      map[string]json.RawMessage `json:"capabilities"`
			ResultType        string                     `json:"resultType"`
			TTLMs             *int                       `json:"ttlMs"`
			CacheScope        string                     `json:"cacheScope"`
			Meta              map[string]map[string]string
		}
		if err := json.Unmarshal(resp.Result, &res); err != nil {
			t.Fatalf("%s: %v", resp.Result, err)
		}
		if res.SupportedVersions[0] != mcp.Version20260728 || res.ResultType != "complete" || res.TTLMs == nil ||
			res.CacheScope != "public" || res.Capabilities["tools"] == nil {
			t.Errorf("discover result %s", resp.Result)
		}
		var m struct {
			Meta map[string]map[string]string `json:"_meta"`
		}
		_ = json.Unmarshal(resp.Result, &m)
		if diff := cmp.Diff(map[string]string{"name": "gw", "version": "9"}, m.Meta[mcp.MetaServerInfo]); diff != "" {
			t.Errorf("serverInfo (-want +got):\n%s", diff)
		}
	})
	tests := []struct {
		name     string
		method   string
		params   string
		hdrs     map[string]string
		want     string // result, exactly
		wantCode int
	}{
		{name: "list is cacheable", method: "prompts/list",
			want: `{"resultType":"complete","ttlMs":60000,"cacheScope":"public","prompts":[{"name":"greet"}]}`},
		{name: "list cursor is invalid", method: "prompts/list", params: `{"cursor":"x"}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "read result is private, ttl 0", method: "resources/read", params: `{"uri":"test://ok"}`,
			want: `{"resultType":"complete","ttlMs":0,"cacheScope":"private","echo":"{\"uri\":\"test://ok\"}"}`},
		{name: "call gets resultType", method: "tools/call", params: `{"name":"echo"}`,
			want: `{"resultType":"complete","echo":"{\"name\":\"echo\"}"}`},
		{name: "bound params match", method: "tools/call", params: `{"name":"region","arguments":{"region":"eu","n":3}}`,
			hdrs: map[string]string{"region": "=?base64?ZXU=?=", "n": "3"},
			want: `{"resultType":"complete","echo":"{\"name\":\"region\",\"arguments\":{\"region\":\"eu\",\"n\":3}}"}`},
		{name: "unbound header ignored", method: "tools/call", params: `{"name":"echo"}`, hdrs: map[string]string{"other": "x"},
			want: `{"resultType":"complete","echo":"{\"name\":\"echo\"}"}`},
		{name: "bound header missing", method: "tools/call", params: `{"name":"region","arguments":{"region":"eu"}}`,
			wantCode: mcp.CodeHeaderMismatch},
		{name: "bound header differs", method: "tools/call", params: `{"name":"region","arguments":{"region":"eu"}}`,
			hdrs: map[string]string{"region": "us"}, wantCode: mcp.CodeHeaderMismatch},
		{name: "bound header bad base64", method: "tools/call", params: `{"name":"region","arguments":{"region":"eu"}}`,
			hdrs: map[string]string{"region": "=?base64?ZXU?="}, wantCode: mcp.CodeHeaderMismatch},
		{name: "header without the argument", method: "tools/call", params: `{"name":"region","arguments":{}}`,
			hdrs: map[string]string{"n": "3"}, wantCode: mcp.CodeHeaderMismatch},
		{name: "null argument needs no header", method: "tools/call", params: `{"name":"region","arguments":{"n":null}}`,
			want: `{"resultType":"complete","echo":"{\"name\":\"region\",\"arguments\":{\"n\":null}}"}`},
		{name: "resource not found is -32602", method: "resources/read", params: `{"uri":"test://x"}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "unknown resource is -32602", method: "resources/read", params: `{"uri":"test://nope"}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "ping removed", method: "ping", wantCode: jsonrpc.CodeMethodNotFound},
		{name: "initialize removed", method: "initialize", params: `{}`, wantCode: jsonrpc.CodeMethodNotFound},
		{name: "logging/setLevel removed", method: "logging/setLevel", params: `{"level":"info"}`, wantCode: jsonrpc.CodeMethodNotFound},
		{name: "resources/subscribe removed", method: "resources/subscribe", params: `{"uri":"test://x"}`, wantCode: jsonrpc.CodeMethodNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := call(tt.method, tt.params, tt.hdrs)
			if tt.wantCode != 0 {
				if resp.Error == nil || resp.Error.Code != tt.wantCode {
					t.Fatalf("response %s, want error %d", jsonrpc.Encode(resp), tt.wantCode)
				}
				return
			}
			if resp.Error != nil {
				t.Fatalf("error %v", resp.Error)
			}
			if string(resp.Result) != tt.want {
				t.Errorf("result\n got %s\nwant %s", resp.Result, tt.want)
			}
		})
	}
	t.Run("session clients unchanged", func(t *testing.T) {
		c := &Client{SessionID: "s1"}
		resp := r.HandleRequest(context.Background(), c, request(1, "prompts/list", ""), newRecStream())
		if string(resp.Result) != `{"prompts":[{"name":"greet"}]}` {
			t.Errorf("session result %s", resp.Result)
		}
	})
}
