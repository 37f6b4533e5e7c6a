package remote

import (
	"testing"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

func TestMetaVersion(t *testing.T) {
	for _, tt := range []struct {
		name, params, want string
	}{
		{"none", `{}`, ""},
		{"empty params", ``, ""},
		{"no version", `{"_meta":{"progressToken":1}}`, ""},
		{"version", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`, "2026-07-28"},
		{"not a string", `{"_meta":{"io.modelcontextprotocol/protocolVersion":7}}`, ""},
		{"as Discover sends it", string(upstream.WithMeta(nil, upstream.MetaFields("2099-01-01", nil, []byte(`{"name":"g"}`), ""))), "2099-01-01"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := metaVersion([]byte(tt.params)); got != tt.want {
				t.Errorf("metaVersion(%s) = %q, want %q", tt.params, got, tt.want)
			}
		})
	}
}
