package httpkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Error is an HTTP error: what the client sees (Status, Code, Message) kept
// apart from what only the log sees (Err).
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is a short machine-readable code, such as "forbidden_origin".
	Code string
	// Message is public text for the client. Never put internal detail in it.
	Message string
	// Err is the internal cause, for the log only. It may be nil.
	Err error
}

// NewError returns an Error without an internal cause.
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("http %d %s: %v", e.Status, e.Code, e.Err)
	}
	return fmt.Sprintf("http %d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorWriter writes an Error as a response body and status. The default is
// WriteJSON; the MCP endpoint writes JSON-RPC error objects instead.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, e *Error)

// errorBody is the JSON body of every HTTP error.
type errorBody struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteJSON is the default ErrorWriter: the JSON error body with e's status
// and the request's ID.
func WriteJSON(w http.ResponseWriter, r *http.Request, e *Error) {
	b, _ := json.Marshal(errorBody{Error: e.Code, Message: e.Message, RequestID: RequestIDFromContext(r.Context())})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	w.Write(append(b, '\n'))
}

// Internal is the public face of any error that is not an *Error.
var Internal = NewError(http.StatusInternalServerError, "internal_error", "internal server error")

// AsError returns err as an *Error: itself if it is one (errors.As), else
// Internal with err as the cause.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: Internal.Status, Code: Internal.Code, Message: Internal.Message, Err: err}
}

// WriteError logs err and writes it with write (nil: WriteJSON). Server
// errors (5xx) are logged at Error level, client errors with an internal
// cause at Debug; the client only ever sees the public fields.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, write ErrorWriter, err error) {
	e := AsError(err)
	if log != nil {
		switch {
		case e.Status >= 500:
			log.ErrorContext(r.Context(), "request failed", "status", e.Status, "code", e.Code,
				"request_id", RequestIDFromContext(r.Context()), "err", e.Err)
		case e.Err != nil:
			log.DebugContext(r.Context(), "request refused", "status", e.Status, "code", e.Code,
				"request_id", RequestIDFromContext(r.Context()), "err", e.Err)
		}
	}
	if write == nil {
		write = WriteJSON
	}
	write(w, r, e)
}

// Handle adapts a handler that returns an error: a non-nil error is written
// with WriteError (as JSON). The handler must not have written a response
// when it returns an error.
func Handle(log *slog.Logger, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteError(w, r, log, nil, err)
		}
	})
}
