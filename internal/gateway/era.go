package gateway

import (
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// upstreamProtocol maps config's upstream protocol to the connection's:
// the zero value is auto (docs/protocol-eras.md §4.1).
func upstreamProtocol(p string) upstream.Protocol {
	switch p {
	case config.ProtocolModern:
		return upstream.ProtocolModern
	case config.ProtocolLegacy:
		return upstream.ProtocolLegacy
	}
	return upstream.ProtocolAuto
}
