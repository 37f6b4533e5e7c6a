package config

import "testing"

func TestValidateGC(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "set is valid", change: func(c *Config) { c.GC.MinHeadroomBytes = 256 << 20 }},
		{name: "negative", change: func(c *Config) { c.GC.MinHeadroomBytes = -1 },
			want: []string{"gc.min_headroom_bytes: must not be negative, got -1"}},
		{name: "too large", change: func(c *Config) { c.GC.MinHeadroomBytes = 17 << 30 },
			want: []string{"gc.min_headroom_bytes: must be at most 17179869184 (16 GiB), got 18253611008"}},
		{name: "procs auto", change: func(c *Config) { c.Procs = "auto" }},
		{name: "procs all", change: func(c *Config) { c.Procs = "all" }},
		{name: "procs number", change: func(c *Config) { c.Procs = "3" }},
		{name: "procs zero", change: func(c *Config) { c.Procs = "0" },
			want: []string{`procs: must be auto, all or a number from 1 to 4096, got "0"`}},
		{name: "procs word", change: func(c *Config) { c.Procs = "many" },
			want: []string{`procs: must be auto, all or a number from 1 to 4096, got "many"`}},
		{name: "procs too many", change: func(c *Config) { c.Procs = "5000" },
			want: []string{`procs: must be auto, all or a number from 1 to 4096, got "5000"`}},
	})
}

func TestProcsNumber(t *testing.T) {
	for procs, want := range map[string]int{"auto": 0, "all": 0, "": 0, "2": 2} {
		if got := (&Config{Procs: procs}).ProcsNumber(); got != want {
			t.Errorf("ProcsNumber(%q) = %d, want %d", procs, got, want)
		}
	}
}
