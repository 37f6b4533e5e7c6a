package mcpsession

import (
	"context"
	"errors"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/sse"
)

// readBatch is the most events written between two flushes.
const readBatch = 64

// errHeartbeat reports that a stream stayed silent for a heartbeat interval.
var errHeartbeat = errors.New("heartbeat due")

// PumpOptions says how Pump frames a stream.
type PumpOptions struct {
	// IDs gives every event an "id: <stream>.<seq>" field (Streamable HTTP,
	// [T §Resumability] 1). Zero means events without IDs (2024-11-05).
	IDs bool
}

// wait waits for an event after seq on the stream, for at most one
// heartbeat interval (errHeartbeat).
func (h *Hub) wait(ctx context.Context, sessionID, stream string, after uint64) error {
	if h.opts.Heartbeat < 0 {
		return h.events.Wait(ctx, sessionID, stream, after)
	}
	wctx, cancel := context.WithTimeout(ctx, h.opts.Heartbeat)
	err := h.events.Wait(wctx, sessionID, stream, after)
	cancel()
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return errHeartbeat
	}
	return err
}

// Pump writes the stream's events after seq to w as "message" events until
// the stream is complete (the responses are out: the SSE stream ends,
// [T §Sending Messages] 6), the connection fails, or ctx ends. Silence
// longer than the heartbeat interval gets a ": ping" comment, and a
// client that is listening counts as using its session (the session is
// touched). What it writes is counted in ls's stats. It returns the last
// sequence written.
func (h *Hub) Pump(ctx context.Context, w *sse.Writer, ls *Live, stream string, after uint64, opts PumpOptions) (uint64, error) {
	var id []byte // scratch for event IDs
	for {
		n, last, complete, err := h.write(ctx, w, ls, stream, after, opts, &id)
		after = last
		if err != nil || complete {
			return after, err
		}
		if n == readBatch {
			continue
		}
		switch err := h.wait(ctx, ls.id, stream, after); {
		case err == nil:
		case errors.Is(err, errHeartbeat):
			before := w.Written()
			w.Comment("ping")
			err := w.Flush()
			ls.CountSent(0, w.Written()-before)
			if err != nil {
				return after, err
			}
			// A client listening is a client using its session.
			_ = h.sessions.Touch(ctx, ls.id)
		default:
			return after, err
		}
	}
}

// Drain writes what the stream holds after seq, without waiting for more.
// A 2024-11-05 stream calls it when its session ends under it (Shutdown), so
// that the responses of calls that finished reach the client before the
// stream closes.
func (h *Hub) Drain(w *sse.Writer, ls *Live, stream string, after uint64) (uint64, error) {
	var id []byte
	for {
		n, last, complete, err := h.write(context.Background(), w, ls, stream, after, PumpOptions{}, &id)
		after = last
		if err != nil || complete || n < readBatch {
			if errors.Is(err, eventlog.ErrNotFound) {
				err = nil // the session's streams are gone: nothing to drain
			}
			return after, err
		}
	}
}

// write reads and writes one batch of events after seq and flushes them.
// It returns how many it wrote, the last sequence written and whether the
// stream is complete.
func (h *Hub) write(ctx context.Context, w *sse.Writer, ls *Live, stream string, after uint64, opts PumpOptions, id *[]byte) (n int, last uint64, complete bool, err error) {
	page, err := h.events.Read(ctx, ls.id, stream, after, readBatch)
	if err != nil {
		return 0, after, false, err
	}
	for _, ev := range page.Events {
		var eid []byte
		if opts.IDs {
			*id = eventlog.AppendEventID((*id)[:0], stream, ev.Seq)
			eid = *id
		}
		w.Event(eid, "message", ev.Data)
		after = ev.Seq
	}
	if len(page.Events) > 0 {
		before := w.Written()
		if err := w.Flush(); err != nil {
			ls.CountSent(0, w.Written()-before)
			return len(page.Events), after, false, err
		}
		ls.CountSent(len(page.Events), w.Written()-before)
	}
	return len(page.Events), after, page.Complete, nil
}
