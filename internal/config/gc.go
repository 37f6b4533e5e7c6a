package config

import "strconv"

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

// The values of procs (Config.Procs):
//
//   - "auto" (the default): GOMAXPROCS follows the gateway's load, from one
//     CPU up to Go's default (internal/proctune), so that a gateway that
//     needs one CPU does not make its scheduler spin on the others, which
//     its stdio upstreams need;
//   - "all": Go's default (every CPU, or the container's limit), fixed;
//   - a number N: GOMAXPROCS=N, fixed.
//
// The GOMAXPROCS environment variable, when set, wins over all three.
const (
	ProcsAuto = "auto"
	ProcsAll  = "all"
)

// maxProcs bounds a numeric procs.
const maxProcs = 1 << 12

// ProcsNumber is procs as a number, or 0 for "auto" and "all".
func (c *Config) ProcsNumber() int {
	n, err := strconv.Atoi(c.Procs)
	if err != nil {
		return 0
	}
	return n
}

func (c *Config) setGCDefaults() {
	setDefault(&c.GC.MinHeadroomBytes, DefaultGCMinHeadroom)
	if c.Procs == "" {
		c.Procs = ProcsAuto
	}
}

func (c *Config) validateGC(ps *Problems) {
	nonNegative(ps, "gc.min_headroom_bytes", c.GC.MinHeadroomBytes)
	if c.GC.MinHeadroomBytes > maxGCMinHeadroom {
		ps.add("gc.min_headroom_bytes", "must be at most %d (16 GiB), got %d", int64(maxGCMinHeadroom), c.GC.MinHeadroomBytes)
	}
	switch c.Procs {
	case "", ProcsAuto, ProcsAll: // "": auto, before defaults
	default:
		if n, err := strconv.Atoi(c.Procs); err != nil || n < 1 || n > maxProcs {
			ps.add("procs", "must be auto, all or a number from 1 to %d, got %q", maxProcs, c.Procs)
		}
	}
}
