package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// slowDecode is what Decode did before its fast path: encoding/json.
func slowDecode(data []byte) (*Message, error) {
	var m Message
	err := json.Unmarshal(data, &m)
	return &m, err
}

// fastCases are envelopes the fast path must decode exactly as
// encoding/json does, or leave to it.
var fastCases = []string{
	`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"x","arguments":{"a":[1,2.5e3,-0.1,true,false,null,"\u00e9\n"]}}}`,
	` { "jsonrpc" : "2.0" , "id" : 7 , "result" : { } } `,
	`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found","data":{"m":"x"}}}`,
	`{"jsonrpc":"2.0","id":1,"error":null}`,
	`{"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"x"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","ID":2}`,
	`{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"method":"p\u0069ng"}`,
	`{"jsonrpc":"2.0","id":1,"method":"pïng"}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","\u0069d":3}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","ſ":3}`,
	`{"jsonrpc":"2.0","id":1,"method":null}`,
	`{"jsonrpc":2,"id":1,"method":"x"}`,
	`{"jsonrpc":"2.0","id":01,"method":"x"}`,
	`{"jsonrpc":"2.0","id":1,"method":"x",}`,
	`{"jsonrpc":"2.0","id":1,"method":"x"} x`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":"` + "\x01" + `"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":"\x"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":[1,]}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":1.}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":-}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":1e}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":tru}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":"\ud800"}}`,
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"a\":\"\xff\"}}",
	`{"jsonrpc":"2.0","unknown":{"deep":[{}]},"id":1,"result":null}`,
}

func TestDecodeFastMatchesEncodingJSON(t *testing.T) {
	for _, in := range fastCases {
		checkFast(t, []byte(in))
	}
}

// checkFast holds decodeFast to encoding/json on data: whatever it
// accepts, encoding/json decodes identically; and its validator agrees
// with json.Valid.
func checkFast(t *testing.T, data []byte) {
	t.Helper()
	data = bytes.TrimSpace(data)
	if checkDepth(data) != nil {
		if _, ok := decodeFast(data); ok {
			t.Fatalf("fast path accepted %q, nested deeper than %d", data, MaxDepth)
		}
		return
	}
	i := skipSpace(data, 0)
	end := scanValue(data, i, MaxDepth+1)
	if end >= 0 {
		end = skipSpace(data, end)
	}
	if got, want := end == len(data), json.Valid(data); got != want {
		t.Fatalf("scanner says valid=%v, json.Valid says %v, for %q", got, want, data)
	}
	if len(data) == 0 || data[0] != '{' {
		return
	}
	fast, ok := decodeFast(data)
	if !ok {
		return
	}
	slow, err := slowDecode(data)
	if err != nil {
		t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", data, err)
	}
	if diff := cmp.Diff(slow, fast); diff != "" {
		t.Fatalf("fast path decoded %q differently (-encoding/json +fast):\n%s", data, diff)
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, s := range fastCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFast(t, data) })
}

func TestEncodeMatchesEncodingJSON(t *testing.T) {
	msgs := []*Message{
		NewRequest(json.RawMessage(`1`), "tools/call", json.RawMessage(`{"name":"x"}`)),
		NewNotification("notifications/initialized", nil),
		NewResponse(json.RawMessage(`"a"`), json.RawMessage(`{"content":[]}`)),
		NewErrorResponse(nil, NewError(CodeParseError, "Parse error: <bad> & \"quoted\" é")),
		NewErrorResponse(json.RawMessage(`3`), &Error{Code: -1, Message: "x", Data: json.RawMessage(`{"uri":"a"}`)}),
		{JSONRPC: "2.0", Method: "a\"b\n<é>\u2028", Params: json.RawMessage(`[1,2]`)},
		{},
	}
	for _, m := range msgs {
		want, err := json.Marshal(struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id,omitempty"`
			Method  string          `json:"method,omitempty"`
			Params  json.RawMessage `json:"params,omitempty"`
			Result  json.RawMessage `json:"result,omitempty"`
			Error   *Error          `json:"error,omitempty"`
		}{m.JSONRPC, m.ID, m.Method, m.Params, m.Result, m.Error})
		if err != nil {
			t.Fatal(err)
		}
		if got := Encode(m); string(got) != string(want) {
			t.Errorf("Encode:\n got %s\nwant %s", got, want)
		}
	}
}

func TestEncodeKeepsOneLine(t *testing.T) {
	m := NewResponse(json.RawMessage("1"), json.RawMessage("{\n  \"a\": \"<x>\",\r\n  \"b\": [1, 2]\n}"))
	got := string(Encode(m))
	if strings.ContainsAny(got, "\r\n") {
		t.Fatalf("Encode left a line break: %q", got)
	}
	if want := `{"jsonrpc":"2.0","id":1,"result":{"a":"<x>","b":[1,2]}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Raw fields are otherwise verbatim: no HTML escaping, no reordering.
	m = NewResponse(json.RawMessage("1"), json.RawMessage(`{"z":"<b>&","a":1}`))
	if got, want := string(Encode(m)), `{"jsonrpc":"2.0","id":1,"result":{"z":"<b>&","a":1}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
