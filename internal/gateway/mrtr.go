package gateway

import (
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/relay"
)

// mrtrOptions are the relay's multi-round-trip settings from the mrtr
// section of the configuration (docs/protocol-eras.md §4.3 A).
func mrtrOptions(c config.MRTR) relay.MRTROptions {
	return relay.MRTROptions{StateKey: c.StateKeyBytes, ParkTimeout: c.ParkTimeout,
		MaxParked: c.MaxParked, MaxParkedPerPrincipal: c.MaxParkedPerUser}
}
