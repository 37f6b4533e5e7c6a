package stdio

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no name", Options{Command: "x"}, "name is required"},
		{"no command", Options{Name: "x"}, "command is required"},
		{"bad env name", Options{Name: "x", Command: "x", Env: map[string]string{"A=B": "c"}}, "invalid environment variable name"},
		{"negative grace", Options{Name: "x", Command: "x", ShutdownGrace: -1}, "shutdown grace must not be negative"},
		{"unknown version", Options{Name: "x", Command: "x", ProtocolVersion: "2020-01-01"}, "unsupported protocol version"},
		{"bad capabilities", Options{Name: "x", Command: "x", Capabilities: json.RawMessage(`{`)}, "capabilities are not valid JSON"},
		{"unknown protocol", Options{Name: "x", Command: "x", Protocol: "future"}, `unknown protocol "future"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}

	got, err := Options{Name: "x", Command: "x"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		Name: "x", Command: "x", ProtocolVersion: mcp.Latest,
		ClientInfo: DefaultClientInfo, Capabilities: DefaultCapabilities,
		InitTimeout: DefaultInitTimeout, RestartBackoffMin: DefaultRestartBackoffMin,
		RestartBackoffMax: DefaultRestartBackoffMax, StableAfter: DefaultStableAfter,
		MaxMessageSize: DefaultMaxMessageSize, WriteQueue: DefaultWriteQueue,
		ShutdownGrace: DefaultShutdownGrace, ProbeTimeout: DefaultProbeTimeout,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestEncoding(t *testing.T) {
	tests := []struct {
		name   string
		build  func() ([]byte, error)
		want   string
		wantOK bool
	}{
		{"request", func() ([]byte, error) {
			return appendRequest(nil, 42, "tools/call", json.RawMessage(`{"name":"x"}`))
		}, `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"x"}}`, true},
		{"request without params", func() ([]byte, error) {
			return appendRequest(nil, 1, "ping", nil)
		}, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, true},
		{"multi-line params are compacted", func() ([]byte, error) {
			return appendNotification(nil, "n", json.RawMessage("{\n  \"a\": \"x\\ny\",\r\n  \"b\": [1, 2]\n}"))
		}, `{"jsonrpc":"2.0","method":"n","params":{"a":"x\ny","b":[1,2]}}`, true},
		{"odd method name is escaped", func() ([]byte, error) {
			return appendNotification(nil, "a\"b\n<é>", nil)
		}, `{"jsonrpc":"2.0","method":"a\"b\n\u003cé\u003e"}`, true},
		{"invalid multi-line params", func() ([]byte, error) {
			return appendNotification(nil, "n", json.RawMessage("{\n"))
		}, "", false},
		{"response", func() ([]byte, error) {
			return appendResponse(nil, jsonrpc.NewResponse(json.RawMessage(`"s-1"`), json.RawMessage("{\n}"))), nil
		}, `{"jsonrpc":"2.0","id":"s-1","result":{}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.build()
			if (err == nil) != tt.wantOK {
				t.Fatalf("err = %v, want ok=%v", err, tt.wantOK)
			}
			if !tt.wantOK {
				return
			}
			line := string(got)
			if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
				t.Errorf("%q is not one line", line)
			}
			if line = strings.TrimSuffix(line, "\n"); line != tt.want {
				t.Errorf("got  %s\nwant %s", line, tt.want)
			}
			if _, rpcErr := jsonrpc.Decode(got); rpcErr != nil {
				t.Errorf("does not decode: %v", rpcErr)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		raw    string
		want   int64
		wantOK bool
	}{
		{"0", 0, true},
		{"12345", 12345, true},
		{"999999999999999999", 999999999999999999, true},
		{"9999999999999999999", 0, false}, // too long to be ours
		{`"12"`, 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseID(json.RawMessage(tt.raw))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseID(%s) = %d, %v; want %d, %v", tt.raw, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzEncoding(f *testing.F) {
	f.Add("tools/call", []byte(`{"a":1}`))
	f.Add("x\n", []byte("{\n\"b\":\"\\n\"}"))
	f.Fuzz(func(t *testing.T, method string, params []byte) {
		// Callers pass params as jsonrpc.Decode accepted them: an object or
		// an array.
		trimmed := strings.TrimSpace(string(params))
		if !json.Valid(params) || trimmed == "" || (trimmed[0] != '{' && trimmed[0] != '[') {
			return
		}
		line, err := appendRequest(nil, 7, method, params)
		if err != nil {
			t.Fatalf("valid params refused: %v", err)
		}
		if i := strings.IndexByte(string(line), '\n'); i != len(line)-1 {
			t.Fatalf("embedded newline in %q", line)
		}
		m, rpcErr := jsonrpc.Decode(line)
		if rpcErr != nil && method != "" {
			t.Fatalf("line %q does not decode: %v", line, rpcErr)
		}
		if rpcErr == nil && m.Method != method && strings.ToValidUTF8(method, "\uFFFD") == method {
			t.Fatalf("method %q came back as %q", method, m.Method)
		}
	})
}
