package config

import "time"

// Settings of the 2026-07-28 stateless era (docs/protocol-eras.md §2, §4.5):
// the caching hints the gateway gives, how long it trusts upstream lists,
// and the per-user bounds on stateless requests and listen streams.

// Caching says how long upstream lists are trusted and what ttlMs the
// gateway sends to 2026-07-28 clients (MCP server/utilities/caching).
type Caching struct {
	// MaxTTL caps the ttlMs of list and server/discover results: a list
	// is fresh for a client for at most this long. Zero means
	// DefaultCachingMaxTTL (60s).
	MaxTTL time.Duration `yaml:"max_ttl,omitempty"`
	// LegacyListTTL is how long the gateway serves a list of an upstream
	// that neither announces list changes (listChanged) nor sends ttlMs,
	// before a client's list request has it read again in the background.
	// Zero means DefaultLegacyListTTL (60s).
	LegacyListTTL time.Duration `yaml:"legacy_list_ttl,omitempty"`
}

// Defaults of the stateless era's settings.
const (
	DefaultCachingMaxTTL            = 60 * time.Second
	DefaultLegacyListTTL            = 60 * time.Second
	DefaultStatelessInFlightPerUser = 256
	DefaultMaxListens               = 1000
	DefaultListensPerUser           = 32
	maxCachingTTL                   = 24 * time.Hour
)

// setStatelessDefaults fills the stateless era's zero values.
func (c *Config) setStatelessDefaults() {
	setDefault(&c.Caching.MaxTTL, DefaultCachingMaxTTL)
	setDefault(&c.Caching.LegacyListTTL, DefaultLegacyListTTL)
	setDefault(&c.Limits.StatelessInFlightPerUser, DefaultStatelessInFlightPerUser)
	setDefault(&c.Limits.MaxListens, DefaultMaxListens)
	if c.Auth.Mode != AuthNone {
		setDefault(&c.Limits.ListensPerUser, DefaultListensPerUser)
	}
	// With auth mode none every client is the same user: max_listens.
	setDefault(&c.Limits.ListensPerUser, c.Limits.MaxListens)
}

// validateStateless checks the stateless era's settings.
func (c *Config) validateStateless(ps *Problems) {
	for _, d := range []struct {
		at string
		v  time.Duration
	}{{"caching.max_ttl", c.Caching.MaxTTL}, {"caching.legacy_list_ttl", c.Caching.LegacyListTTL}} {
		if nonNegativeDuration(ps, d.at, d.v) && d.v > maxCachingTTL {
			ps.add(d.at, "must be at most %v, got %v", maxCachingTTL, d.v)
		}
	}
	nonNegative(ps, "limits.stateless_in_flight_per_user", c.Limits.StatelessInFlightPerUser)
	nonNegative(ps, "limits.max_listens", c.Limits.MaxListens)
	nonNegative(ps, "limits.listens_per_user", c.Limits.ListensPerUser)
	if c.Limits.MaxListens > 0 && c.Limits.ListensPerUser > c.Limits.MaxListens {
		ps.add("limits.listens_per_user", "%d is more than limits.max_listens (%d)", c.Limits.ListensPerUser, c.Limits.MaxListens)
	}
}
