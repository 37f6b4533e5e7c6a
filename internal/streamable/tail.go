package streamable

import (
	"context"
	"errors"
	"net/http"
)

// readBatch is the most events written between two flushes.
const readBatch = 64

// errHeartbeat reports that a stream stayed silent for a heartbeat interval.
var errHeartbeat = errors.New("heartbeat due")

// wait waits for an event after seq on the stream, for at most one
// heartbeat interval (errHeartbeat).
func (h *Handler) wait(ctx context.Context, sessionID, stream string, after uint64) error {
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

// pump writes the stream's events after seq until the stream is complete
// (the responses are out: end the SSE stream, [T §Sending Messages] 6), the
// connection fails or ctx ends. Silence longer than the heartbeat interval
// gets a ": ping" comment. It returns the last sequence written.
func (h *Handler) pump(ctx context.Context, sw *sseWriter, ls *liveSession, stream string, after uint64) (uint64, error) {
	for {
		page, err := h.events.Read(ctx, ls.id, stream, after, readBatch)
		if err != nil {
			return after, err
		}
		for _, ev := range page.Events {
			sw.event(stream, ev.Seq, ev.Data)
			after = ev.Seq
		}
		if len(page.Events) > 0 {
			if err := sw.flush(); err != nil {
				return after, err
			}
		}
		if page.Complete {
			return after, nil
		}
		if len(page.Events) == readBatch {
			continue
		}
		switch err := h.wait(ctx, ls.id, stream, after); {
		case err == nil:
		case errors.Is(err, errHeartbeat):
			sw.comment("ping")
			if err := sw.flush(); err != nil {
				return after, err
			}
			// A client listening is a client using its session.
			_ = h.sessions.Touch(ctx, ls.id)
		default:
			return after, err
		}
	}
}

// writeResponses writes responses as one JSON body: the response itself, or
// an array for a batch ([B0326 §Batching]).
func writeResponses(w http.ResponseWriter, resps [][]byte, isBatch bool) {
	if !isBatch {
		writeJSON(w, resps[0])
		return
	}
	size := 1
	for _, r := range resps {
		size += len(r) + 1
	}
	body := make([]byte, 0, size)
	body = append(body, '[')
	for i, r := range resps {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, r...)
	}
	writeJSON(w, append(body, ']'))
}
