package httpkit

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
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
			// Inside AccessLog, w is its recorder already: share it rather
			// than wrap the response twice.
			rw, ok := w.(*recorder)
			if !ok {
				rw = &recorder{ResponseWriter: w}
			}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path,
					"request_id", RequestIDFromContext(r.Context()), "panic", v, "stack", string(debug.Stack()))
				if rw.status != 0 {
					panic(http.ErrAbortHandler)
				}
				WriteJSON(rw, r, Internal)
			}()
			next.ServeHTTP(rw, r)
		})
	}
}

// AccessLog logs one line per request at Info (Warn for 5xx, and status 0
// for a request aborted by a panic): method, path, status, duration, bytes
// and request ID. It logs the path only: never the
// query string (it may hold secrets) and never a header.
func AccessLog(log *slog.Logger) Middleware { return AccessLogWith(log, nil) }

// AccessLogOptions configures AccessLogWith. Nil options mean none.
type AccessLogOptions struct {
	// OnResponse, if set, is called once per request after the access log
	// line, with the status logged (0 for an aborted request): the hook
	// for counting responses by status without wrapping the writer twice.
	OnResponse func(r *http.Request, status int)
}

// AccessLogWith is AccessLog with options.
func AccessLogWith(log *slog.Logger, opts *AccessLogOptions) Middleware {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var onResponse func(*http.Request, int)
	if opts != nil {
		onResponse = opts.OnResponse
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &recorder{ResponseWriter: w, start: time.Now()}
			defer func() {
				v := recover() // a panic passing through (Recover belongs inside)
				status := rw.status
				switch {
				case v != nil:
					status = 0 // aborted: the client got no complete response
				case status == 0:
					status = http.StatusOK // nothing written: net/http sends 200
				}
				level := slog.LevelInfo
				if status >= 500 || status == 0 {
					level = slog.LevelWarn
				}
				log.LogAttrs(r.Context(), level, "http request",
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Int("status", status),
					slog.Duration("duration", time.Since(rw.start)),
					slog.Int64("bytes", rw.bytes),
					slog.String("request_id", RequestIDFromContext(r.Context())))
				if onResponse != nil {
					onResponse(r, status)
				}
				if v != nil {
					panic(v)
				}
			}()
			next.ServeHTTP(rw, r)
		})
	}
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
