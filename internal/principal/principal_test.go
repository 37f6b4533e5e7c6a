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

func TestKeyCached(t *testing.T) {
	p := Principal{Issuer: "static", Subject: "alice", Name: "Alice"}
	k := p.WithKey()
	if p.Key() != "static\x00alice" || k.Key() != p.Key() {
		t.Errorf("Key() = %q (literal), %q (WithKey), want %q", p.Key(), k.Key(), "static\x00alice")
	}
	if !k.Equal(p) || !p.Equal(k) {
		t.Error("a principal with its Key cached is not Equal to the same principal without")
	}
	if k.Equal(Principal{Issuer: "static", Subject: "bob", Name: "Alice"}) {
		t.Error("different subjects are Equal")
	}
	if testing.AllocsPerRun(100, func() { _ = k.Key() }) != 0 {
		t.Error("Key of a WithKey principal allocates")
	}
}
