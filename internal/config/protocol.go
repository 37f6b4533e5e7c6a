package config

import (
	"strconv"
	"time"
)

// Upstream protocol eras (docs/protocol-eras.md §4.1), the values of
// Upstream.Protocol.
const (
	ProtocolAuto   = "auto"
	ProtocolModern = "modern"
	ProtocolLegacy = "legacy"
)

// DefaultProbeTimeout is the zero value's meaning of Upstream.ProbeTimeout.
const DefaultProbeTimeout = 3 * time.Second

// validateProtocols reports unknown upstream protocol eras and negative
// probe timeouts.
func (c *Config) validateProtocols(ps *Problems) {
	for i, u := range c.Upstreams {
		at := "upstreams[" + strconv.Itoa(i) + "]"
		switch u.Protocol {
		case "", ProtocolAuto, ProtocolModern, ProtocolLegacy:
		default:
			ps.add(at+".protocol", "unknown protocol %q (want %q, %q or %q)", u.Protocol, ProtocolAuto, ProtocolModern, ProtocolLegacy)
		}
		nonNegativeDuration(ps, at+".probe_timeout", u.ProbeTimeout)
	}
}
