package principal

import (
	"context"
	"testing"
)

func TestIsAnonymous(t *testing.T) {
	tests := []struct {
		name string
		p    Principal
		want bool
	}{
		{"Anonymous", Anonymous, true},
		{"from an empty context", FromContext(context.Background()), true},
		{"another subject", Principal{Subject: "alice", Name: "anonymous"}, false},
		{"an issuer", Principal{Issuer: "static", Subject: "anonymous", Name: "anonymous"}, false},
		{"a role", Principal{Subject: "anonymous", Name: "anonymous", Role: RoleReadOnly}, false},
		{"scopes", Principal{Subject: "anonymous", Name: "anonymous", Scopes: []string{"mcp"}}, false},
		{"a client", Principal{Subject: "anonymous", Name: "anonymous", ClientID: "c"}, false},
		{"a grant", Principal{Subject: "anonymous", Name: "anonymous", GrantID: "g"}, false},
	}
	for _, tt := range tests {
		if got := tt.p.IsAnonymous(); got != tt.want {
			t.Errorf("%s: IsAnonymous() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
