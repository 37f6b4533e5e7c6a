package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidateProtocols(t *testing.T) {
	tests := []struct {
		name     string
		protocol string
		probe    time.Duration
		want     string // a problem the error must name; "" for none
	}{
		{"zero", "", 0, ""},
		{"auto", ProtocolAuto, time.Second, ""},
		{"modern", ProtocolModern, 0, ""},
		{"legacy", ProtocolLegacy, 0, ""},
		{"unknown", "2026", 0, `upstreams[0].protocol: unknown protocol "2026"`},
		{"negative probe", ProtocolAuto, -time.Second, "upstreams[0].probe_timeout: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Upstreams: []Upstream{{Name: "a", Command: "x", Protocol: tt.protocol, ProbeTimeout: tt.probe}}}
			c.SetDefaults()
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want a problem %q", err, tt.want)
			}
		})
	}
}
