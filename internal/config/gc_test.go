package config

import "testing"

func TestValidateGC(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "set is valid", change: func(c *Config) { c.GC.MinHeadroomBytes = 256 << 20 }},
		{name: "negative", change: func(c *Config) { c.GC.MinHeadroomBytes = -1 },
			want: []string{"gc.min_headroom_bytes: must not be negative, got -1"}},
		{name: "too large", change: func(c *Config) { c.GC.MinHeadroomBytes = 17 << 30 },
			want: []string{"gc.min_headroom_bytes: must be at most 17179869184 (16 GiB), got 18253611008"}},
	})
}
