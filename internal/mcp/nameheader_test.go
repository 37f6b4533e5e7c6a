package mcp

import "testing"

func TestCheckNameHeader(t *testing.T) {
	tests := []struct {
		name, method, params string
		values               []string
		want                 string
	}{
		{name: "equal", method: MethodToolsCall, params: `{"name":"echo"}`, values: []string{"echo"}},
		{name: "whitespace around", method: MethodToolsCall, params: `{"name":"echo"}`, values: []string{" echo "}},
		{name: "base64", method: MethodResourcesRead, params: `{"uri":"file:///ä"}`, values: []string{"=?base64?ZmlsZTovLy/DpA==?="}},
		{name: "no name in params", method: MethodToolsCall, params: `{}`},
		{name: "method without one", method: MethodToolsList, params: `{"name":"x"}`, values: []string{"y"}},
		{name: "missing", method: MethodToolsCall, params: `{"name":"echo"}`, want: "Mcp-Name is required with params.name"},
		{name: "twice", method: MethodToolsCall, params: `{"name":"echo"}`, values: []string{"echo", "echo"}, want: "Mcp-Name is required with params.name"},
		{name: "different", method: MethodPromptsGet, params: `{"name":"a"}`, values: []string{"b"}, want: "Mcp-Name must equal params.name"},
		{name: "bad base64", method: MethodToolsCall, params: `{"name":"echo"}`, values: []string{"=?base64?***?="}, want: "Mcp-Name must equal params.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckNameHeader(tt.values, tt.method, []byte(tt.params)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
