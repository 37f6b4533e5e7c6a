package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

func TestWithMeta(t *testing.T) {
	f := []byte(`"k":1`)
	tests := []struct{ name, in, want string }{
		{"nil params", ``, `{"_meta":{"k":1}}`},
		{"null params", `null`, `{"_meta":{"k":1}}`},
		{"empty object", `{}`, `{"_meta":{"k":1}}`},
		{"empty object with space", `{ }`, `{"_meta":{"k":1} }`},
		{"members", `{"a":1}`, `{"_meta":{"k":1},"a":1}`},
		{"empty _meta", `{"a":1,"_meta":{}}`, `{"a":1,"_meta":{"k":1}}`},
		{"_meta with token", `{"_meta":{"progressToken":"t"},"a":1}`, `{"_meta":{"k":1,"progressToken":"t"},"a":1}`},
		{"null _meta replaced", `{"a":1,"_meta":null,"b":2}`, `{"a":1,"_meta":{"k":1},"b":2}`},
		{"client meta kept", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"x"}}`, `{"_meta":{"io.modelcontextprotocol/protocolVersion":"x"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(WithMeta(json.RawMessage(tt.in), f))
			if got != tt.want {
				t.Errorf("WithMeta(%s) = %s, want %s", tt.in, got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	tests := []struct {
		name    string
		answer  *jsonrpc.Message
		wantErr error
		wantVer string
	}{
		{"discover result", jsonrpc.NewResponse(nil, json.RawMessage(`{"supportedVersions":["2026-07-28","2025-11-25"],"capabilities":{"extensions":{"x":{}}},"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"m"}}}`)), nil, "2026-07-28"},
		{"method not found", jsonrpc.NewErrorResponse(nil, jsonrpc.NewError(-32601, "nope")), ErrSessionEra, ""},
		{"no common version", jsonrpc.NewResponse(nil, json.RawMessage(`{"supportedVersions":["2099-01-01"],"capabilities":{}}`)), ErrSessionEra, ""},
		{"-32022 without a usable version", jsonrpc.NewErrorResponse(nil, &jsonrpc.Error{Code: -32022, Message: "x", Data: json.RawMessage(`{"supported":["2025-11-25"]}`)}), ErrSessionEra, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			call := func(_ context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error) {
				calls++
				if method != "server/discover" || !HasProtocolMeta(params) {
					t.Errorf("probe sent %s %s", method, params)
				}
				return tt.answer, nil
			}
			info, err := Discover(context.Background(), call, json.RawMessage(`{"name":"g","version":"1"}`))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err == nil && (info.Era != EraModern || info.ProtocolVersion != tt.wantVer || string(info.ServerInfo) != `{"name":"m"}` || string(info.Capabilities.Extensions) != `{"x":{}}`) {
				t.Errorf("info %+v", info)
			}
			if calls != 1 {
				t.Errorf("%d calls, want 1", calls)
			}
		})
	}
}

// FuzzWithMeta: any valid JSON object stays valid JSON with the fields in
// its _meta.
func FuzzWithMeta(f *testing.F) {
	for _, seed := range []string{`{}`, `{"a":1}`, `{"_meta":{}}`, `{"_meta":null}`, `{"_meta":{"x":[1,{"y":"}"}]}}`, `{ "a" : "_meta" }`, `{"\u005fmeta":{}}`} {
		f.Add(seed)
	}
	fields := MetaFields("2026-07-28", nil, json.RawMessage(`{"name":"g"}`), "info")
	f.Fuzz(func(t *testing.T, in string) {
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(in), &obj) != nil || HasProtocolMeta(json.RawMessage(in)) {
			return
		}
		out := WithMeta(json.RawMessage(in), fields)
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("WithMeta(%s) = %s: %v", in, out, err)
		}
		var meta map[string]json.RawMessage
		if json.Unmarshal(got["_meta"], &meta) != nil || string(meta["io.modelcontextprotocol/protocolVersion"]) != `"2026-07-28"` {
			t.Fatalf("WithMeta(%s) = %s: _meta lacks the fields", in, out)
		}
	})
}

func TestDropProtocolVersion(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"none", `{"name":"x","_meta":{"progressToken":1}}`, `{"name":"x","_meta":{"progressToken":1}}`},
		{"dropped, hint kept", `{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":1}}`,
			`{"name":"x","_meta":{"io.modelcontextprotocol/clientCapabilities":{},"progressToken":1}}`},
		{"only in an argument", `{"arguments":{"s":"\"io.modelcontextprotocol/protocolVersion\""}}`, `{"arguments":{"s":"\"io.modelcontextprotocol/protocolVersion\""}}`},
		{"only member of _meta", `{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`, `{"name":"x","_meta":{}}`},
		{"duplicate _meta: decoded", `{"_meta":{"a":1},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","b":2}}`,
			`{"_meta":{"b":2}}`},
		{"escaped name in _meta: decoded", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","\u0062":2}}`,
			`{"_meta":{"b":2}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(DropProtocolVersion(json.RawMessage(tt.in))); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func BenchmarkWithMeta(b *testing.B) {
	fields := MetaFields("2026-07-28", json.RawMessage(`{"sampling":{},"roots":{"listChanged":true}}`), json.RawMessage(`{"name":"c","version":"1"}`), "")
	for _, bc := range []struct{ name, params string }{
		{"no _meta", `{"name":"echo","arguments":{"message":"hello"}}`},
		{"_meta with token", `{"name":"echo","arguments":{"message":"hello"},"_meta":{"progressToken":1}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			params := json.RawMessage(bc.params)
			b.ReportAllocs()
			for b.Loop() {
				_ = WithMeta(params, fields)
			}
		})
	}
	b.Run("DropProtocolVersion present", func(b *testing.B) {
		params := json.RawMessage(`{"name":"echo","arguments":{"message":"hello"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}}`)
		b.ReportAllocs()
		for b.Loop() {
			_ = DropProtocolVersion(params)
		}
	})
	b.Run("DropProtocolVersion absent", func(b *testing.B) {
		params := json.RawMessage(`{"name":"echo","arguments":{"message":"hello"},"_meta":{"progressToken":1}}`)
		b.ReportAllocs()
		for b.Loop() {
			_ = DropProtocolVersion(params)
		}
	})
}

// FuzzDropProtocolVersion checks the raw-bytes fast path against decoding:
// both results decode to the same members.
func FuzzDropProtocolVersion(f *testing.F) {
	for _, s := range []string{
		`{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","progressToken":1}}`,
		`{"_meta":{"io.modelcontextprotocol/protocolVersion":"v"},"_meta":{}}`,
		`{"_meta":{"a":{"io.modelcontextprotocol/protocolVersion":1}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fast := DropProtocolVersion(json.RawMessage(in))
		slow := dropProtocolVersionSlow(json.RawMessage(in))
		var a, b any
		errA, errB := json.Unmarshal(fast, &a), json.Unmarshal(slow, &b)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("DropProtocolVersion(%q) = %q, slow path %q: validity differs", in, fast, slow)
		}
		if errA == nil && !reflect.DeepEqual(a, b) {
			t.Fatalf("DropProtocolVersion(%q) = %q, slow path %q", in, fast, slow)
		}
	})
}
