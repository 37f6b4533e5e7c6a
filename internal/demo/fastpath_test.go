package demo

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// FuzzFastPaths holds every fast path to what encoding/json gives: when
// one applies, its answer is the general way's, byte for byte.
func FuzzFastPaths(f *testing.F) {
	for _, seed := range []string{
		`{"name":"echo","arguments":{"message":"hello, gateway"}}`,
		`{"name":"echo","arguments":{"message":"a<b&c\"d\\e\u00e9"}}`,
		`{"name":"echo","Name":"x"}`, `{"name":"a","name":"b"}`, `{"naMe":"a"}`, `{"name\u0041":"a"}`,
		`{"nameſ":"a"}`, `{"name":null}`, `{"name":5}`, `{"arguments":null}`, `{"arguments":[1]}`,
		`{"_meta":{"progressToken":"t1"},"name":"slow"}`, `{"_meta":{"progressToken":1.5}}`,
		`{"_meta":null}`, `{"_meta":5}`, `{"_META":{"progressToken":1}}`, `{"_meta":{"progresstoken":1}}`,
		`{"message":"hi"}`, `{"message":"\n"}`, `{}`, `{"x":1,"y":[{"z":null}]}`, ` { "name" : "e" } `, `{`, `[]`,
		`7`, `-12`, `-0`, `007`, `123456789012345678`, `1234567890123456789`, `"id"`, `1e3`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if name, args, ok := fastToolsCallParams(in); ok && len(in) > 0 {
			var p struct {
				Name      *string         `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			}
			if err := json.Unmarshal(in, &p); err != nil {
				t.Fatalf("tools/call params %q: fast path read them, encoding/json fails: %v", in, err)
			}
			if (name == nil) != (p.Name == nil) || name != nil && *name != *p.Name || !bytes.Equal(args, p.Arguments) {
				t.Fatalf("tools/call params %q: fast %v %q, encoding/json %v %q", in, name, args, p.Name, p.Arguments)
			}
		}
		if len(in) > 0 && in[0] == '{' {
			if msg, ok := fastMessageArg(in); ok {
				var a struct {
					Message *string `json:"message"`
				}
				if err := json.Unmarshal(in, &a); err != nil || (msg == nil) != (a.Message == nil) || msg != nil && *msg != *a.Message {
					t.Fatalf("echo arguments %q: fast %v, encoding/json %v %v", in, msg, a.Message, err)
				}
			}
			if tok, ok := fastProgressToken(in); ok {
				var p struct {
					Meta struct {
						ProgressToken json.RawMessage `json:"progressToken"`
					} `json:"_meta"`
				}
				want := json.RawMessage(nil)
				if json.Unmarshal(in, &p) == nil && jsonrpc.ValidID(p.Meta.ProgressToken) {
					want = p.Meta.ProgressToken
				}
				if !bytes.Equal(tok, want) {
					t.Fatalf("progress token of %q: fast %q, encoding/json %q", in, tok, want)
				}
			}
		}
		if k, ok := fastIDKey(in); ok {
			var n json.Number
			if err := json.Unmarshal(in, &n); err != nil {
				t.Fatalf("id %q: fast %q, encoding/json fails: %v", in, k, err)
			}
			i, err := n.Int64()
			if err != nil || k != "n:"+n.String() || n.String() != string(in) || i == 0 && string(in) != "0" {
				t.Fatalf("id %q: fast %q, encoding/json %v %v", in, k, n, err)
			}
		}
		// A text result of the fuzzed text encodes as json.Marshal does.
		for _, r := range []*toolResult{textResult(string(in)), errorResult(string(in)),
			{Content: []content{textContent(string(in)), {Type: "text"}}}} {
			raw, ok := fastEncodeResult(r)
			want, err := json.Marshal(r)
			if !ok || err != nil || !bytes.Equal(raw, want) {
				t.Fatalf("result of %q: fast %s (%v), json.Marshal %s", in, raw, ok, want)
			}
		}
	})
}
