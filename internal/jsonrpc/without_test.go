package jsonrpc

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestWithoutMember(t *testing.T) {
	tests := []struct {
		name, in, key, want string
		removed, ok         bool
	}{
		{"absent", `{"a":1}`, "b", `{"a":1}`, false, true},
		{"only member", `{"a":1}`, "a", `{}`, true, true},
		{"first", `{"a":1, "b":[2,{"a":3}]}`, "a", `{"b":[2,{"a":3}]}`, true, true},
		{"last", `{"b":"x","a":{"c":1}}`, "a", `{"b":"x"}`, true, true},
		{"middle, spaces", ` { "b" : 1 , "a" : 2 , "c" : 3 } `, "a", `{"b" : 1,"c" : 3}`, true, true},
		{"every duplicate", `{"a":1,"b":2,"a":3}`, "a", `{"b":2}`, true, true},
		{"nested only", `{"x":{"a":1}}`, "a", `{"x":{"a":1}}`, false, true},
		{"empty object", `{}`, "a", `{}`, false, true},
		{"escaped name could be the key", `{"\u0061":1}`, "a", `{"\u0061":1}`, false, false},
		{"not an object", `[1]`, "a", `[1]`, false, false},
		{"invalid", `{"a":}`, "a", `{"a":}`, false, false},
		{"trailing garbage", `{"a":1}x`, "a", `{"a":1}x`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, removed, ok := WithoutMember([]byte(tt.in), tt.key)
			if string(got) != tt.want || removed != tt.removed || ok != tt.ok {
				t.Errorf("WithoutMember(%s, %q) = %s, %v, %v; want %s, %v, %v", tt.in, tt.key, got, removed, ok, tt.want, tt.removed, tt.ok)
			}
		})
	}
}

// FuzzWithoutMember checks WithoutMember against encoding/json: when it
// answers, the result decodes to the input's members less the key.
func FuzzWithoutMember(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":1,"b":{"a":2},"a":[3]}`, ` {"b" : "a" } `, `{}`, `{"\u0061":1}`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, removed, ok := WithoutMember([]byte(in), "a")
		if !ok {
			return
		}
		var before, after map[string]json.RawMessage
		if err := json.Unmarshal([]byte(in), &before); err != nil {
			t.Fatalf("WithoutMember accepted %q, which encoding/json refuses: %v", in, err)
		}
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("WithoutMember(%q) = %q: not valid JSON: %v", in, out, err)
		}
		_, had := before["a"]
		if removed != had {
			t.Fatalf("WithoutMember(%q): removed %v, but the input had the key: %v", in, removed, had)
		}
		delete(before, "a")
		if !reflect.DeepEqual(compactAll(t, before), compactAll(t, after)) {
			t.Fatalf("WithoutMember(%q) = %q: members differ", in, out)
		}
	})
}

func compactAll(t *testing.T, m map[string]json.RawMessage) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(x)
		out[k] = string(b)
	}
	return out
}

func BenchmarkWithoutMember(b *testing.B) {
	meta := []byte(`{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, removed, ok := WithoutMember(meta, "io.modelcontextprotocol/protocolVersion"); !removed || !ok {
			b.Fatal("not removed")
		}
	}
}
