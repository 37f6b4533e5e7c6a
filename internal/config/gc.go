package config

// GC configures how the gateway process tunes Go's garbage collector
// (internal/gctune).
type GC struct {
	// MinHeadroomBytes is how much the gateway may allocate after a
	// collection before the next one starts, at least: with a small live
	// heap, GOGC is raised so that collections run every MinHeadroomBytes
	// of allocation instead of every 4 MiB (dozens of times a second under
	// load); a live heap larger than it keeps Go's default (GOGC=100). The
	// price is at most this much extra memory. Zero means
	// DefaultGCMinHeadroom (64 MiB). Setting the GOGC environment variable
	// turns the tuning off (the operator's choice wins); GOMEMLIMIT still
	// applies either way.
	MinHeadroomBytes int64 `yaml:"min_headroom_bytes,omitempty"`
}

// DefaultGCMinHeadroom is gc.min_headroom_bytes's default.
const DefaultGCMinHeadroom = 64 << 20

// maxGCMinHeadroom bounds gc.min_headroom_bytes (16 GiB).
const maxGCMinHeadroom = 16 << 30

func (c *Config) setGCDefaults() {
	setDefault(&c.GC.MinHeadroomBytes, DefaultGCMinHeadroom)
}

func (c *Config) validateGC(ps *Problems) {
	nonNegative(ps, "gc.min_headroom_bytes", c.GC.MinHeadroomBytes)
	if c.GC.MinHeadroomBytes > maxGCMinHeadroom {
		ps.add("gc.min_headroom_bytes", "must be at most %d (16 GiB), got %d", int64(maxGCMinHeadroom), c.GC.MinHeadroomBytes)
	}
}
