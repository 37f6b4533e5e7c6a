package httpkit

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Recover turns a panic in the handler into a logged error (with the stack)
// and, if nothing was written yet, a JSON 500. If the response had started,
// the connection is aborted instead, so the client never takes a truncated
// response for a whole one. http.ErrAbortHandler passes through.
func Recover(log *slog.Logger) Middleware {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &recorder{ResponseWriter: w}
			defer func() {
				if v := recovered(log, r, rw, recover()); v != nil {
					panic(v)
				}
			}()
			next.ServeHTTP(rw, r)
		})
	}
}

// recovered handles v, what recover returned while serving r: a panic is
// logged with its stack and answered with a JSON 500 if nothing was
// written yet. It returns what to panic with now: nil when there is
// nothing more to do, http.ErrAbortHandler to abort a response that had
// started (or when the handler asked for that itself).
func recovered(log *slog.Logger, r *http.Request, rw *recorder, v any) any {
	if v == nil || v == http.ErrAbortHandler {
		return v
	}
	log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path,
		"request_id", RequestIDFromContext(r.Context()), "panic", v, "stack", string(debug.Stack()))
	if rw.status != 0 {
		return http.ErrAbortHandler
	}
	WriteJSON(rw, r, Internal)
	return nil
}

// BodyLimitOptions configures BodyLimit.
type BodyLimitOptions struct {
	// WriteError writes the 413 response. Nil means WriteJSON.
	WriteError ErrorWriter
}

// TooLarge is the error for a body over the limit.
var TooLarge = NewError(http.StatusRequestEntityTooLarge, "payload_too_large", "request body too large")

// BodyLimit refuses bodies larger than max bytes: at once with 413 when
// Content-Length says so, otherwise when the handler reads past max (the
// read fails with *http.MaxBytesError; see IsTooLarge).
func BodyLimit(max int64, opts *BodyLimitOptions) Middleware {
	var write ErrorWriter
	if opts != nil {
		write = opts.WriteError
	}
	if write == nil {
		write = WriteJSON
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				write(w, r, TooLarge)
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, max)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// IsTooLarge reports whether err comes from reading past a body limit.
func IsTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}
