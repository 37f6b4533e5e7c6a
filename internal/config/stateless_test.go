package config

import (
	"testing"
	"time"
)

func TestValidateStateless(t *testing.T) {
	tests := []validateCase{
		{name: "set is valid", change: func(c *Config) {
			c.Caching = Caching{MaxTTL: 5 * time.Minute, LegacyListTTL: time.Second}
			c.Limits.StatelessInFlightPerUser, c.Limits.ListensPerUser, c.Limits.MaxListens = 8, 2, 4
		}},
		{name: "negative", change: func(c *Config) {
			c.Caching = Caching{MaxTTL: -time.Second, LegacyListTTL: -time.Second}
			c.Limits.StatelessInFlightPerUser, c.Limits.ListensPerUser, c.Limits.MaxListens = -1, -1, -1
		}, want: []string{
			"caching.max_ttl: must not be negative, got -1s",
			"caching.legacy_list_ttl: must not be negative, got -1s",
			"limits.stateless_in_flight_per_user: must not be negative, got -1",
			"limits.max_listens: must not be negative, got -1",
			"limits.listens_per_user: must not be negative, got -1",
		}},
		{name: "too long", change: func(c *Config) { c.Caching.MaxTTL = 25 * time.Hour },
			want: []string{"caching.max_ttl: must be at most 24h0m0s, got 25h0m0s"}},
		{name: "per user above all", change: func(c *Config) { c.Limits.ListensPerUser, c.Limits.MaxListens = 5, 4 },
			want: []string{"limits.listens_per_user: 5 is more than limits.max_listens (4)"}},
	}
	runValidateCases(t, tests)
}

// TestStatelessDefaults: listens per user default to the global bound with
// auth mode none (one anonymous user), to DefaultListensPerUser otherwise.
func TestStatelessDefaults(t *testing.T) {
	for _, tt := range []struct {
		mode string
		want int
	}{{AuthNone, DefaultMaxListens}, {AuthStatic, DefaultListensPerUser}} {
		c := &Config{Auth: Auth{Mode: tt.mode}}
		c.SetDefaults()
		if c.Limits.ListensPerUser != tt.want || c.Caching.MaxTTL != time.Minute || c.Caching.LegacyListTTL != time.Minute {
			t.Errorf("mode %s: listens_per_user %d caching %+v, want %d and 1m", tt.mode, c.Limits.ListensPerUser, c.Caching, tt.want)
		}
	}
}
