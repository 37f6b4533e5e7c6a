package streamable

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
)

// SSE framing (HTML Living Standard §9.2 "Server-sent events"): fields are
// "name: value" lines, an event ends with a blank line, a line starting with
// ":" is a comment. Lines end with CRLF, LF or CR, so data is split on all
// three and written as one "data:" line each; the reader joins them with LF.
// Nothing is escaped: JSON from the relay contains no raw newlines, and
// any that appear survive as line breaks.

// appendEvent appends one SSE event. id and name must not contain CR, LF
// or NUL (they are dropped if they do: event IDs come from eventlog and are
// safe by construction). An empty id or name writes no such field; retry > 0
// adds a retry field in milliseconds. data is always written, so an event
// with empty data is "id + empty data", the priming event of
// [T §Sending Messages] 6.
func appendEvent(dst []byte, id []byte, name string, retry time.Duration, data []byte) []byte {
	if len(id) > 0 {
		dst = append(dst, "id: "...)
		dst = appendField(dst, id)
		dst = append(dst, '\n')
	}
	if name != "" {
		dst = append(dst, "event: "...)
		dst = appendField(dst, []byte(name))
		dst = append(dst, '\n')
	}
	if retry > 0 {
		dst = append(dst, "retry: "...)
		dst = strconv.AppendInt(dst, retry.Milliseconds(), 10)
		dst = append(dst, '\n')
	}
	for {
		i := lineEnd(data)
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(dst, '\n')
}

// lineEnd returns the index of the first CR or LF in b, or -1.
func lineEnd(b []byte) int {
	for i, c := range b {
		if c == '\n' || c == '\r' {
			return i
		}
	}
	return -1
}

func appendField(dst, v []byte) []byte {
	for _, c := range v {
		if c != '\n' && c != '\r' && c != 0 {
			dst = append(dst, c)
		}
	}
	return dst
}

// appendComment appends a comment line and the blank line that ends the
// block: ": text\n\n". Clients ignore it; proxies see traffic.
func appendComment(dst []byte, text string) []byte {
	dst = append(dst, ": "...)
	dst = appendField(dst, []byte(text))
	return append(dst, "\n\n"...)
}

// sseWriter writes an SSE response: events are buffered, then flush writes
// and flushes them together. After the first write error every call is a
// no-op and flush returns that error.
type sseWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte
	id  []byte // scratch for event IDs
	err error
}

// startSSE sends the headers of an SSE response ([T §Sending Messages] 5:
// Content-Type text/event-stream). Cache-Control keeps caches out and
// X-Accel-Buffering: no keeps nginx-style proxies from holding events back.
func startSSE(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &sseWriter{w: w, rc: http.NewResponseController(w), buf: make([]byte, 0, 1024)}
}

// event buffers a message event whose ID is eventlog.FormatEventID(stream, seq).
func (s *sseWriter) event(stream string, seq uint64, data []byte) {
	s.id = eventlog.AppendEventID(s.id[:0], stream, seq)
	s.buf = appendEvent(s.buf, s.id, "message", 0, data)
}

// prime buffers the priming event: an event ID with empty data, and the
// retry interval the client must wait before reconnecting
// ([T §Sending Messages] 6, 2025-11-25).
func (s *sseWriter) prime(stream string, seq uint64, retry time.Duration) {
	s.id = eventlog.AppendEventID(s.id[:0], stream, seq)
	s.buf = appendEvent(s.buf, s.id, "", retry, nil)
}

// comment buffers a comment (a heartbeat).
func (s *sseWriter) comment(text string) { s.buf = appendComment(s.buf, text) }

// flush writes what is buffered and flushes the connection.
func (s *sseWriter) flush() error {
	if s.err != nil {
		return s.err
	}
	if len(s.buf) > 0 {
		_, s.err = s.w.Write(s.buf)
		s.buf = s.buf[:0]
		if s.err != nil {
			return s.err
		}
	}
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.err = err
	}
	return s.err
}
