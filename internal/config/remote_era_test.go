package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateRemoteEra(t *testing.T) {
	tests := []struct {
		name string
		u    Upstream
		want []string
	}{
		{name: "modern over Streamable HTTP", u: Upstream{Name: "web", Type: "http", URL: "https://h/mcp", Protocol: ProtocolModern}},
		{name: "auto and legacy over HTTP+SSE", u: Upstream{Name: "web", Type: "sse", URL: "https://h/sse", Protocol: ProtocolLegacy}},
		{name: "fallback with auto", u: Upstream{Name: "web", Type: "http", URL: "https://h/mcp", FallbackSSE: true}},
		{
			name: "modern over HTTP+SSE",
			u:    Upstream{Name: "web", Type: "sse", URL: "https://h/sse", Protocol: ProtocolModern},
			want: []string{`upstreams[0].protocol: "modern" needs type "http": the HTTP+SSE transport speaks only the session era`},
		},
		{
			name: "fallback is for type http",
			u:    Upstream{Name: "web", Type: "sse", URL: "https://h/sse", FallbackSSE: true},
			want: []string{`upstreams[0].fallback_sse: only for type "http"`},
		},
		{
			name: "fallback on stdio",
			u:    Upstream{Name: "local", Command: "server", FallbackSSE: true},
			want: []string{`upstreams[0].fallback_sse: only for type "http"`},
		},
		{
			name: "fallback with modern",
			u:    Upstream{Name: "web", Type: "http", URL: "https://h/mcp", Protocol: ProtocolModern, FallbackSSE: true},
			want: []string{`upstreams[0].fallback_sse: cannot be combined with protocol "modern": an HTTP+SSE server is never modern`},
		},
		{
			name: "request metadata headers are the gateway's",
			u: Upstream{Name: "web", Type: "http", URL: "https://h/mcp",
				Headers: map[string]string{"Mcp-Method": "x", "mcp-param-region": "y", "X-Ok": "z"}},
			want: []string{
				`upstreams[0].headers.Mcp-Method: set by the gateway itself; it cannot be configured`,
				`upstreams[0].headers.mcp-param-region: set by the gateway itself; it cannot be configured`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Upstreams: []Upstream{tt.u}}
			var got []string
			if err := c.Validate(); err != nil {
				for _, p := range err.(Problems) {
					got = append(got, p.Error())
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
