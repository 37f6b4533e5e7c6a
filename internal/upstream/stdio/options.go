package stdio

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Defaults for the zero values of Options: upstream's shared ones, and the
// write queue.
const (
	DefaultInitTimeout       = upstream.DefaultInitTimeout
	DefaultRestartBackoffMin = upstream.DefaultRestartBackoffMin
	DefaultRestartBackoffMax = upstream.DefaultRestartBackoffMax
	DefaultStableAfter       = upstream.DefaultStableAfter
	DefaultMaxMessageSize    = upstream.DefaultMaxMessageSize
	DefaultShutdownGrace     = upstream.DefaultShutdownGrace
	DefaultProbeTimeout      = upstream.DefaultProbeTimeout
	DefaultWriteQueue        = 256
)

// DefaultClientInfo is the clientInfo the gateway sends at initialize when
// Options.ClientInfo is empty (upstream.DefaultClientInfo).
var DefaultClientInfo = upstream.DefaultClientInfo

// DefaultCapabilities are the client capabilities the gateway declares to
// an upstream when Options.Capabilities is empty
// (upstream.DefaultCapabilities): it relays sampling, elicitation and roots
// (with list_changed) from its clients.
var DefaultCapabilities = upstream.DefaultCapabilities

// InheritedEnv lists the variables a child inherits from the gateway's own
// environment (when set there). Everything else the child gets comes from
// Options.Env, so the gateway's secrets do not leak into upstream
// processes.
var InheritedEnv = []string{"PATH", "HOME", "LANG", "TMPDIR"}

// Options configure one stdio upstream.
type Options struct {
	// Name is the upstream's configured name; required.
	Name string
	// Command is the program to run, looked up in the gateway's PATH when
	// it has no slash; required.
	Command string
	// Args are the program's arguments.
	Args []string
	// Env holds extra environment variables for the child. The child's
	// environment is the gateway's PATH, HOME, LANG and TMPDIR (see
	// InheritedEnv) plus these, which win on conflict. Nil adds nothing.
	Env map[string]string
	// Dir is the child's working directory; empty means the gateway's.
	Dir string

	// ProtocolVersion is the revision asked for at initialize; empty means
	// mcp.Latest. The upstream may answer another revision, which is used if
	// the gateway supports it.
	ProtocolVersion string
	// ClientInfo is the clientInfo (an Implementation object) sent at
	// initialize; empty means DefaultClientInfo.
	ClientInfo json.RawMessage
	// Capabilities is the ClientCapabilities object sent at initialize;
	// empty means DefaultCapabilities.
	Capabilities json.RawMessage

	// Protocol is the upstream's era (probe.go, docs/protocol-eras.md §4.1):
	// upstream.ProtocolAuto probes with server/discover and falls back to
	// initialize; upstream.ProtocolModern only discovers; the zero value
	// and upstream.ProtocolLegacy only initialize (no probe).
	Protocol upstream.Protocol
	// ProbeTimeout bounds the server/discover probe of ProtocolAuto; an
	// upstream silent that long is session-era. Zero means 3s.
	ProbeTimeout time.Duration
	// EraMemory, shared by the connections of one configured upstream
	// (per-user processes), remembers the era ProtocolAuto settled on, so
	// that later starts skip the probe. Nil means the Conn remembers for
	// itself (its restarts).
	EraMemory *upstream.EraMemory

	// InitTimeout bounds the initialize round trip (and server/discover
	// for ProtocolModern); zero means 30s.
	InitTimeout time.Duration
	// RestartBackoffMin and RestartBackoffMax bound the wait before a
	// restart: after the n-th consecutive failure it is a random point
	// between half and all of min·2^(n-1) capped at max, never below min.
	// Zero means 250ms and 30s.
	RestartBackoffMin, RestartBackoffMax time.Duration
	// StableAfter is how long a process must have been ready for the
	// backoff and the MaxRestarts count to start over; zero means 30s.
	StableAfter time.Duration
	// MaxRestarts is how many consecutive restarts (without a stable
	// period between them) are tried before the upstream is stopped for
	// good; zero means unlimited.
	MaxRestarts int
	// ReadyWait is how long Call, Notify and Respond wait for an upstream
	// that is starting or restarting to become ready before failing with
	// upstream.ErrUnavailable; zero means they fail at once.
	ReadyWait time.Duration
	// MaxMessageSize is the longest line accepted from the upstream's
	// stdout, in bytes; a longer one is an error that restarts the process.
	// Zero means 16 MiB.
	MaxMessageSize int
	// WriteQueue is how many outgoing messages may wait for the writer;
	// senders beyond it wait for room, bounded by their ctx. Zero means 256.
	WriteQueue int
	// ShutdownGrace is how long each shutdown step waits for the process to
	// exit (after closing stdin, then after SIGTERM) before the next one;
	// zero means 2s.
	ShutdownGrace time.Duration
	// StderrLevel is the level at which the child's stderr lines are
	// logged; the zero value is slog.LevelInfo. Use slog.LevelDebug for
	// chatty servers.
	StderrLevel slog.Level
}

// withDefaults validates o and fills in its zero values.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if o.Command == "" {
		errs = append(errs, errors.New("command is required"))
	}
	for k := range o.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			errs = append(errs, fmt.Errorf("invalid environment variable name %q", k))
		}
	}
	d := upstream.Durations{Init: &o.InitTimeout, BackoffMin: &o.RestartBackoffMin, BackoffMax: &o.RestartBackoffMax,
		StableAfter: &o.StableAfter, ReadyWait: &o.ReadyWait, ShutdownGrace: &o.ShutdownGrace, Probe: &o.ProbeTimeout}
	errs = append(errs, d.Check()...)
	if o.MaxRestarts < 0 || o.MaxMessageSize < 0 || o.WriteQueue < 0 {
		errs = append(errs, errors.New("max restarts, max message size and write queue must not be negative"))
	}
	errs = append(errs, upstream.CheckInitialize(&o.ProtocolVersion, &o.ClientInfo, &o.Capabilities)...)
	if !o.Protocol.Valid() {
		errs = append(errs, fmt.Errorf("unknown protocol %q (want auto, modern or legacy)", o.Protocol))
	}
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	d.Fill()
	setDefault(&o.MaxMessageSize, DefaultMaxMessageSize)
	setDefault(&o.WriteQueue, DefaultWriteQueue)
	return o, nil
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// childEnv builds the child's environment: InheritedEnv taken from the
// gateway's environment, then extra (sorted by name, winning on conflict).
func childEnv(extra map[string]string) []string {
	env := make([]string, 0, len(InheritedEnv)+len(extra))
	for _, k := range InheritedEnv {
		if _, set := extra[k]; set {
			continue
		}
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		env = append(env, k+"="+extra[k])
	}
	return env
}
