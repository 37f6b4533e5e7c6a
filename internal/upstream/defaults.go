package upstream

import (
	"fmt"
	"time"
)

// Defaults shared by the supervised Conns (stdio, remote) for the zero
// values of their options.
const (
	DefaultInitTimeout       = 30 * time.Second
	DefaultRestartBackoffMin = 250 * time.Millisecond
	DefaultRestartBackoffMax = 30 * time.Second
	DefaultStableAfter       = 30 * time.Second
	DefaultMaxMessageSize    = 16 << 20
	DefaultShutdownGrace     = 2 * time.Second
	DefaultProbeTimeout      = 3 * time.Second
)

// Durations points at the timing options every supervised Conn has, so
// that their checks and defaults are written once. ReadyWait has no
// default (zero: calls do not wait for a restarting upstream).
type Durations struct {
	Init, BackoffMin, BackoffMax, StableAfter, ReadyWait, ShutdownGrace, Probe *time.Duration
}

// Check returns an error for each negative duration, for errors.Join with
// the transport's own.
func (d Durations) Check() []error {
	var errs []error
	for _, f := range []struct {
		name string
		v    *time.Duration
	}{
		{"init timeout", d.Init}, {"restart backoff min", d.BackoffMin},
		{"restart backoff max", d.BackoffMax}, {"stable after", d.StableAfter},
		{"ready wait", d.ReadyWait}, {"shutdown grace", d.ShutdownGrace},
		{"probe timeout", d.Probe},
	} {
		if *f.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", f.name))
		}
	}
	return errs
}

// Fill replaces zero durations with the defaults above and raises the
// backoff's maximum to its minimum.
func (d Durations) Fill() {
	for _, f := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{d.Init, DefaultInitTimeout}, {d.BackoffMin, DefaultRestartBackoffMin},
		{d.BackoffMax, DefaultRestartBackoffMax}, {d.StableAfter, DefaultStableAfter},
		{d.ShutdownGrace, DefaultShutdownGrace}, {d.Probe, DefaultProbeTimeout},
	} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	*d.BackoffMax = max(*d.BackoffMax, *d.BackoffMin)
}
