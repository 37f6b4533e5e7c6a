package upstream

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/mcp"
)

// DefaultClientInfo is the clientInfo the gateway sends at initialize when
// an upstream's options leave it empty.
var DefaultClientInfo = json.RawMessage(`{"name":"mcpgate","version":"devel"}`)

// DefaultCapabilities are the client capabilities the gateway declares to
// an upstream when its options leave them empty: it relays sampling,
// elicitation and roots (with list_changed) from its clients.
var DefaultCapabilities = json.RawMessage(`{"roots":{"listChanged":true},"sampling":{},"elicitation":{}}`)

// CheckInitialize validates what a Conn's options say to send at
// initialize and fills in the zero values: an empty version means
// mcp.Latest, an empty clientInfo DefaultClientInfo, empty capabilities
// DefaultCapabilities. It returns every problem found, for errors.Join
// with the transport's own.
func CheckInitialize(version *string, clientInfo, capabilities *json.RawMessage) []error {
	var errs []error
	if *version == "" {
		*version = mcp.Latest
	} else if !mcp.Supported(*version) {
		errs = append(errs, fmt.Errorf("unsupported protocol version %q", *version))
	}
	if len(*clientInfo) == 0 {
		*clientInfo = DefaultClientInfo
	} else if !json.Valid(*clientInfo) {
		errs = append(errs, errors.New("client info is not valid JSON"))
	}
	if len(*capabilities) == 0 {
		*capabilities = DefaultCapabilities
	} else if !json.Valid(*capabilities) {
		errs = append(errs, errors.New("capabilities are not valid JSON"))
	}
	return errs
}
