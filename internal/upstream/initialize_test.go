package upstream

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/mcpgate/mcpgate/internal/mcp"
)

func TestCheckInitialize(t *testing.T) {
	tests := []struct {
		name               string
		version            string
		info, caps         json.RawMessage
		wantVersion        string
		wantInfo, wantCaps string
		wantErr            string // the joined problems; "" none
	}{
		{name: "zero values", wantVersion: mcp.Latest, wantInfo: string(DefaultClientInfo), wantCaps: string(DefaultCapabilities)},
		{name: "set", version: mcp.Version20250326, info: json.RawMessage(`{"name":"x"}`), caps: json.RawMessage(`{}`),
			wantVersion: mcp.Version20250326, wantInfo: `{"name":"x"}`, wantCaps: `{}`},
		{name: "all wrong", version: "1999-01-01", info: json.RawMessage(`{`), caps: json.RawMessage(`[`),
			wantVersion: "1999-01-01", wantInfo: `{`, wantCaps: `[`,
			wantErr: "unsupported protocol version \"1999-01-01\"\nclient info is not valid JSON\ncapabilities are not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, info, caps := tt.version, tt.info, tt.caps
			err := errors.Join(CheckInitialize(&v, &info, &caps)...)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr || v != tt.wantVersion || string(info) != tt.wantInfo || string(caps) != tt.wantCaps {
				t.Errorf("got %q, %s, %s, error %q; want %q, %s, %s, error %q", v, info, caps, got, tt.wantVersion, tt.wantInfo, tt.wantCaps, tt.wantErr)
			}
		})
	}
}
