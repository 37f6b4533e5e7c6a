package upstream

import (
	"context"
	"time"
)

// Status is an upstream's health as shown on /health. It carries no
// secrets: never the environment, headers, tokens or command arguments.
type Status struct {
	// Name is the upstream's configured name.
	Name string `json:"name"`
	// Transport names the kind of connection ("stdio", "http", "sse"); empty
	// when the Conn does not say.
	Transport string `json:"transport,omitempty"`
	// State is the current health.
	State State `json:"state"`
	// PID is the process id of a stdio upstream's current process; 0 when
	// none is running or the transport has no process.
	PID int `json:"pid,omitempty"`
	// Restarts counts how often the process or connection was restarted
	// since Start.
	Restarts int `json:"restarts"`
	// LastError is the sanitised text of the last failure (bounded length,
	// no control characters); empty if there was none.
	LastError string `json:"lastError,omitempty"`
	// ProtocolVersion is the revision negotiated with the upstream at its
	// latest initialize; empty before the first one.
	ProtocolVersion string `json:"protocolVersion,omitempty"`
	// StartedAt is when the current process or connection was started;
	// zero when there is none.
	StartedAt time.Time `json:"startedAt,omitzero"`
}

// StatusReporter is implemented by Conns that describe their health in more
// detail than State. The Pool uses it when present.
type StatusReporter interface {
	Status() Status
}

// Lifecycle is implemented by Conns that must be started and stopped (a
// stdio process, a remote connection with a background stream). The Pool
// calls Start once and Close once.
type Lifecycle interface {
	// Start begins supervising the upstream. It may wait, bounded by ctx,
	// for the first connection attempt and return its error, but it must
	// keep retrying in the background until Close whatever it returns.
	Start(ctx context.Context) error
	// Close stops the upstream for good and waits, bounded by ctx, until
	// everything it started has ended.
	Close(ctx context.Context) error
}
