// Package eventlog keeps the server→client messages of each SSE stream as a
// numbered, bounded log, so that a connection can tail a stream and a client
// can resume one with Last-Event-ID (MCP Streamable HTTP §Resumability).
//
// It owns event numbering, event IDs and retention. It knows nothing of HTTP
// or JSON-RPC: an event is opaque bytes.
//
// # Model
//
// A stream is identified by (sessionID, streamID). Its events are numbered
// 1, 2, 3, … in append order; sequence 0 means "before the first event".
// An event ID is "<streamID>.<seq>" (see FormatEventID): it names its stream,
// so a Last-Event-ID maps back to exactly one stream, and it is unique across
// all streams of a session because stream IDs are ([T §Resumability] 1).
//
//	Create ──▶ live ──Append…──▶ Complete(final…) ──▶ complete ──▶ evicted/Delete
//	           │  ▲                                     │
//	           ▼  │ Wait wakes on every change          ▼
//	        Read(after) returns events after a sequence, and whether the
//	        stream has ended with them
//
// # Bounds
//
// Every bound is in Limits. A stream retains at most MaxEvents events and
// MaxBytes bytes of ordinary events. Read marks what it returns as delivered;
// when a stream is full, Append first discards its oldest delivered events
// (so a long-lived stream with a reader never fills up) and fails with
// ErrFull only when the stream is full of events nobody has read: a live
// stream never loses an undelivered event silently. The final events given to
// Complete (the responses) are exempt from MaxEvents and MaxBytes: a stream
// can always carry its responses.
//
// A session holds at most MaxStreams streams. Creating one more evicts the
// session's oldest completed stream, and Create fails with ErrLimit when all
// of them are live. Completed streams are also evicted, oldest first, while
// the session's retained bytes exceed MaxSessionBytes. Live streams are never
// evicted.
package eventlog

import (
	"context"
	"errors"
)

// Errors returned by every Log implementation.
var (
	// ErrNotFound: the stream (or session) does not exist, or was deleted
	// or evicted.
	ErrNotFound = errors.New("event stream not found")
	// ErrExists: Create was given a stream ID already in use in the session.
	ErrExists = errors.New("event stream already exists")
	// ErrBadStreamID: Create was given a stream ID that ValidStreamID refuses.
	ErrBadStreamID = errors.New("invalid event stream ID")
	// ErrComplete: Append or Complete on a stream that is already complete.
	ErrComplete = errors.New("event stream is complete")
	// ErrFull: the stream holds MaxEvents or MaxBytes of undelivered events.
	ErrFull = errors.New("event stream is full")
	// ErrTooLarge: a single event is larger than MaxBytes and can never fit.
	ErrTooLarge = errors.New("event larger than the stream limit")
	// ErrLimit: the session has MaxStreams live streams.
	ErrLimit = errors.New("too many live event streams in session")
	// ErrTrimmed: Read was asked for events after a sequence whose
	// successors have been discarded; the stream cannot be replayed from
	// there.
	ErrTrimmed = errors.New("events no longer retained")
	// ErrUnknownEvent: Read was given a sequence the stream never reached.
	ErrUnknownEvent = errors.New("unknown event")
)

// Event is one stored event.
type Event struct {
	// Seq is the event's number in its stream, from 1.
	Seq uint64
	// Data is the payload. It belongs to the log: callers must not modify it.
	Data []byte
}

// Page is the result of Read.
type Page struct {
	// Events are the events after the requested sequence, oldest first.
	Events []Event
	// Complete reports that the stream is complete and Events end with its
	// last event: nothing will follow.
	Complete bool
}

// Info describes a stream.
type Info struct {
	// First is the sequence of the oldest retained event, or Last+1 when
	// none is retained.
	First uint64
	// Last is the sequence of the newest event (0 before the first).
	Last uint64
	// Delivered is the highest sequence any Read has returned.
	Delivered uint64
	// Complete reports that Complete was called.
	Complete bool
}

// Log stores the event streams of every session. Implementations must be
// safe for concurrent use and, for shared backends, across processes: any
// replica may append to or tail any stream.
//
// Methods that take a stream return ErrNotFound if it does not exist.
type Log interface {
	// Create opens a new live stream. streamID must satisfy ValidStreamID
	// (ErrBadStreamID) and must never have been used before in the session
	// (ErrExists while the old one is retained). When the session already
	// holds MaxStreams streams, the oldest completed one is evicted (fully
	// delivered ones first); if all are live, Create returns ErrLimit.
	Create(ctx context.Context, sessionID, streamID string) error
	// Append adds an event to a live stream and returns its event ID. The log
	// takes ownership of data. It returns ErrComplete after Complete, ErrFull
	// when the stream's bounds are reached by undelivered events, and
	// ErrTooLarge for an event that can never fit.
	Append(ctx context.Context, sessionID, streamID string, data []byte) (string, error)
	// Complete appends the final events, which may be none, and marks the
	// stream complete, atomically: readers see the final events and the end
	// of the stream together. Final events are exempt from the stream's
	// bounds. The log takes ownership of them.
	Complete(ctx context.Context, sessionID, streamID string, final ...[]byte) error
	// Read returns up to max events (max <= 0: all) with a sequence greater
	// than after, and marks them delivered. It returns ErrUnknownEvent if
	// after is beyond the stream's last event and ErrTrimmed if events after
	// it have been discarded. It never blocks.
	Read(ctx context.Context, sessionID, streamID string, after uint64, max int) (Page, error)
	// Wait blocks until the stream has an event after the given sequence, is
	// complete, or is gone (ErrNotFound), or until ctx ends (ctx.Err()).
	Wait(ctx context.Context, sessionID, streamID string, after uint64) error
	// Stat describes the stream.
	Stat(ctx context.Context, sessionID, streamID string) (Info, error)
	// Delete removes a stream; waiters wake and see ErrNotFound.
	Delete(ctx context.Context, sessionID, streamID string) error
	// DeleteSession removes every stream of a session. It succeeds when the
	// session has none.
	DeleteSession(ctx context.Context, sessionID string) error
}

// Limits bound a Log. The zero value of each field selects its default.
type Limits struct {
	// MaxEvents is the most ordinary events a stream retains. Zero means 1024.
	MaxEvents int
	// MaxBytes is the most bytes of ordinary event data a stream retains, and
	// so the largest ordinary event. Zero means 1 MiB.
	MaxBytes int64
	// MaxStreams is the most streams a session holds, live or completed.
	// Zero means 128.
	MaxStreams int
	// MaxSessionBytes is the retained bytes of a session above which its
	// completed streams are evicted, oldest first. Zero means 8 MiB.
	MaxSessionBytes int64
}

// Default limits.
const (
	DefaultMaxEvents       = 1024
	DefaultMaxBytes        = 1 << 20
	DefaultMaxStreams      = 128
	DefaultMaxSessionBytes = 8 << 20
)

// withDefaults returns l with zero fields set to their defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxEvents <= 0 {
		l.MaxEvents = DefaultMaxEvents
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxStreams <= 0 {
		l.MaxStreams = DefaultMaxStreams
	}
	if l.MaxSessionBytes <= 0 {
		l.MaxSessionBytes = DefaultMaxSessionBytes
	}
	return l
}
