package relay

import (
	"encoding/json"
	"testing"
)

// routingCases are params that readRouting must read exactly as
// json.Unmarshal into namedParams does, or leave to it.
var routingCases = []string{
	`{"name":"echo","arguments":{"message":"hi"}}`,
	`{"name":"echo","_meta":{"progressToken":7},"arguments":{}}`,
	`{"_meta":{"progressToken":"p","other":1},"name":"a__b"}`,
	`{"name":"echo","_meta":null}`,
	`{"name":null}`,
	`{"name":5}`,
	`{"name":"e\u0063ho"}`,
	`{"name":"échо"}`,
	`{"Name":"echo"}`,
	`{"NAME":"x","name":"y"}`,
	`{"name":"a","name":"b"}`,
	`{"name":"a","_meta":{"progressToken":1},"_meta":{"progressToken":2}}`,
	`{"name":"a","_meta":{"ProgressToken":1}}`,
	`{"name":"a","_meta":{"progressToken":1,"progressToken":2}}`,
	`{"name":"a","_meta":"x"}`,
	`{"name":"a","_META":{}}`,
	`{"n\u0061me":"a"}`,
	`{"name":"a",}`,
	`[1]`,
	``,
	`{"name":"a"} `,
}

func TestReadRoutingMatchesEncodingJSON(t *testing.T) {
	for _, in := range routingCases {
		checkRouting(t, []byte(in))
	}
}

func FuzzReadRouting(f *testing.F) {
	for _, s := range routingCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkRouting(t, data) })
}

// checkRouting holds readRouting to json.Unmarshal: whatever it reads, the
// slow path would have read the same; its spans hold exactly the values.
func checkRouting(t *testing.T, params []byte) {
	t.Helper()
	r, ok := readRouting(params, "name")
	if !ok {
		return
	}
	var p namedParams
	if err := json.Unmarshal(params, &p); err != nil {
		t.Fatalf("readRouting read %q, json.Unmarshal refuses it: %v", params, err)
	}
	if r.key != p.Name || string(r.token) != string(p.Meta.ProgressToken) {
		t.Fatalf("readRouting(%q) = %q, %s; json.Unmarshal reads %q, %s", params, r.key, r.token, p.Name, p.Meta.ProgressToken)
	}
	if r.keyAt.ok() {
		if got, _ := json.Marshal(r.key); string(params[r.keyAt.start:r.keyAt.end]) != string(got) {
			t.Fatalf("name span of %q holds %q", params, params[r.keyAt.start:r.keyAt.end])
		}
	}
	if r.tokenAt.ok() && string(params[r.tokenAt.start:r.tokenAt.end]) != string(r.token) {
		t.Fatalf("token span of %q holds %q", params, params[r.tokenAt.start:r.tokenAt.end])
	}
}

func TestApplySplicesNameAndToken(t *testing.T) {
	tests := []struct {
		name, params, newName, token, want string
	}{
		{"rename", `{"name":"b__echo","arguments":{"x":1}}`, "echo", "", `{"name":"echo","arguments":{"x":1}}`},
		{"token", `{"name":"echo","_meta":{"progressToken":7,"k":"v"}}`, "", "mcpgate-1", `{"name":"echo","_meta":{"progressToken":"mcpgate-1","k":"v"}}`},
		{"token before name", `{"_meta":{"progressToken":"abc"}, "name" : "b__echo"}`, "echo", "mcpgate-2", `{"_meta":{"progressToken":"mcpgate-2"}, "name" : "echo"}`},
		{"nothing", `{"name":"echo"}`, "", "", `{"name":"echo"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := readRouting(json.RawMessage(tc.params), "name")
			if !ok {
				t.Fatal("fast path refused")
			}
			up := upstreamParams{routing: r, fast: true, newName: tc.newName}
			got, rpcErr := up.apply(json.RawMessage(tc.params), tc.token)
			if rpcErr != nil {
				t.Fatal(rpcErr)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
