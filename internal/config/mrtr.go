package config

import (
	"encoding/base64"
	"strings"
	"time"
)

// MRTR configures multi-round-trip requests for 2026-07-28 clients of
// session-era upstreams (docs/protocol-eras.md §4.3 A): when such an
// upstream asks the client for sampling, elicitation or roots during a
// call, the gateway parks the upstream call and answers the client with an
// InputRequiredResult whose requestState token names the parked call.
type MRTR struct {
	// StateKey is "env:NAME" or "file:/path" holding a base64 32-byte key
	// (openssl rand -base64 32) that seals requestState tokens (AES-GCM).
	// Zero means a random key per process: tokens then stop opening when
	// the gateway restarts, and with several replicas each opens only its
	// own; parked calls live in one process anyway, so a retry that reaches
	// another replica is served as a fresh call.
	StateKey SecretRef `yaml:"state_key,omitempty"`
	// ParkTimeout is how long a parked call waits for the client's retry
	// (and how long its token is valid); then the upstream call is
	// cancelled. Zero means DefaultParkTimeout (10m).
	ParkTimeout time.Duration `yaml:"park_timeout,omitempty"`
	// MaxParked bounds the calls parked at once; one more is refused with
	// HTTP 429 and its upstream call cancelled. Zero means
	// DefaultMaxParked (1000).
	MaxParked int `yaml:"max_parked,omitempty"`
	// MaxParkedPerUser bounds the parked calls of one user (429 beyond).
	// Zero means DefaultMaxParkedPerUser (20).
	MaxParkedPerUser int `yaml:"max_parked_per_user,omitempty"`

	// StateKeyBytes is StateKey's key, read by ResolveSecrets. Not
	// configurable.
	StateKeyBytes []byte `yaml:"-"`
}

// Defaults of the mrtr settings.
const (
	DefaultParkTimeout      = 10 * time.Minute
	DefaultMaxParked        = 1000
	DefaultMaxParkedPerUser = 20
	maxParkTimeout          = 24 * time.Hour
)

// setMRTRDefaults fills the mrtr settings' zero values.
func (c *Config) setMRTRDefaults() {
	setDefault(&c.MRTR.ParkTimeout, DefaultParkTimeout)
	setDefault(&c.MRTR.MaxParked, DefaultMaxParked)
	setDefault(&c.MRTR.MaxParkedPerUser, DefaultMaxParkedPerUser)
}

// validateMRTR checks the mrtr settings.
func (c *Config) validateMRTR(ps *Problems) {
	m := &c.MRTR
	if m.StateKey != "" {
		checkSecretRef(ps, "mrtr.state_key", m.StateKey)
	}
	if nonNegativeDuration(ps, "mrtr.park_timeout", m.ParkTimeout) && m.ParkTimeout > maxParkTimeout {
		ps.add("mrtr.park_timeout", "must be at most %v, got %v", maxParkTimeout, m.ParkTimeout)
	}
	nonNegative(ps, "mrtr.max_parked", m.MaxParked)
	nonNegative(ps, "mrtr.max_parked_per_user", m.MaxParkedPerUser)
	if m.MaxParked > 0 && m.MaxParkedPerUser > m.MaxParked {
		ps.add("mrtr.max_parked_per_user", "%d is more than mrtr.max_parked (%d)", m.MaxParkedPerUser, m.MaxParked)
	}
}

// resolveMRTRSecret reads the requestState key.
func (c *Config) resolveMRTRSecret(r SecretReader, ps *Problems) {
	m := &c.MRTR
	if m.StateKey == "" {
		return
	}
	s, err := r.read(m.StateKey)
	if err != nil {
		ps.add("mrtr.state_key", "%v", err)
		return
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Reveal()))
	if err != nil || len(k) != 32 {
		ps.add("mrtr.state_key", "want 32 bytes, base64 (openssl rand -base64 32)")
		return
	}
	m.StateKeyBytes = k
}
