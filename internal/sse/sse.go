// Package sse writes Server-Sent Events (HTML Living Standard §9.2
// "Server-sent events"): the framing of events and comments, and a response
// writer that flushes every batch at once and bounds each write, so that no
// event waits in a buffer and a client that stops reading is dropped.
//
// Both MCP transports use it: Streamable HTTP for its POST and GET streams,
// the 2024-11-05 HTTP+SSE transport for its one stream per session.
package sse

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Framing: fields are "name: value" lines, an event ends with a blank line,
// a line starting with ":" is a comment. Lines end with CRLF, LF or CR, so
// data is split on all three and written as one "data:" line each; the
// reader joins them with LF. Nothing is escaped: JSON contains no raw
// newlines, and any that appear survive as line breaks.

// AppendEvent appends one event. id and name must not contain CR, LF or NUL
// (they are dropped if they do). An empty id or name writes no such field;
// retry > 0 adds a retry field in milliseconds. data is always written, so
// an event with empty data is "id + empty data", the priming event of
// Streamable HTTP ([T §Sending Messages] 6).
func AppendEvent(dst []byte, id []byte, name string, retry time.Duration, data []byte) []byte {
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

// lineEnd returns the index of the first CR or LF in b, or -1. Two
// bytes.IndexByte scans run at memory speed where a loop over the bytes
// does not; JSON data has neither, so both usually scan it all.
func lineEnd(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.IndexByte(b, '\r')
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		return j
	}
	return i
}

func appendField(dst, v []byte) []byte {
	for _, c := range v {
		if c != '\n' && c != '\r' && c != 0 {
			dst = append(dst, c)
		}
	}
	return dst
}

// AppendComment appends a comment line and the blank line that ends the
// block: ": text\n\n". Clients ignore it; proxies see traffic.
func AppendComment(dst []byte, text string) []byte {
	dst = append(dst, ": "...)
	dst = appendField(dst, []byte(text))
	return append(dst, "\n\n"...)
}

// DefaultWriteTimeout is the Writer's bound on one flush when
// Start is given zero.
const DefaultWriteTimeout = 30 * time.Second

// Writer writes an SSE response: events are buffered, then Flush writes and
// flushes them together. After the first write error every call is a no-op
// and Flush returns that error. Call End when the stream is over.
//
// The buffer is taken from a pool by the first event after a Flush and
// returned by the Flush, so an idle stream holds none.
type Writer struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	timeout  time.Duration
	deadline time.Time // the write deadline last set; zero: none
	buf      *[]byte   // pending bytes; nil when nothing is pending
	written  int64     // bytes written to the connection so far
	err      error

	// After Hijack: the connection, written directly; w and rc are nil.
	conn    net.Conn
	chunked bool // frame every flush as an HTTP/1.1 chunk
}

// bufPool holds the buffers of Writers between flushes.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooled is the largest buffer returned to the pool: one that grew for a
// large event is left to the garbage collector.
const maxPooled = 64 << 10

// Start sends the headers of an SSE response: Content-Type
// text/event-stream ([T §Sending Messages] 5), Cache-Control no-cache so
// that caches keep out, and X-Accel-Buffering: no so that nginx-style
// proxies pass each event on at once instead of buffering them.
//
// writeTimeout bounds each Flush: a client that does not take the bytes in
// time (a dead peer whose socket buffer is full, or one that stopped
// reading) fails the write, so its stream and resources are freed instead
// of waiting forever. Zero means DefaultWriteTimeout; negative means none.
func Start(w http.ResponseWriter, writeTimeout time.Duration) *Writer {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if writeTimeout == 0 {
		writeTimeout = DefaultWriteTimeout
	}
	return &Writer{w: w, rc: http.NewResponseController(w), timeout: writeTimeout}
}

// pending returns the buffer of pending bytes, taking one from the pool if
// there is none, or nil after a write error.
func (s *Writer) pending() *[]byte {
	if s.err != nil {
		return nil
	}
	if s.buf == nil {
		s.buf = bufPool.Get().(*[]byte)
		if s.chunked {
			*s.buf = append(*s.buf, chunkRoom[:]...) // room for the chunk header
		}
	}
	return s.buf
}

// Event buffers an event (see AppendEvent).
func (s *Writer) Event(id []byte, name string, data []byte) {
	if b := s.pending(); b != nil {
		*b = AppendEvent(*b, id, name, 0, data)
	}
}

// Prime buffers a priming event: an event ID with empty data, and the retry
// interval the client must wait before reconnecting
// ([T §Sending Messages] 6, 2025-11-25).
func (s *Writer) Prime(id []byte, retry time.Duration) {
	if b := s.pending(); b != nil {
		*b = AppendEvent(*b, id, "", retry, nil)
	}
}

// Comment buffers a comment (a heartbeat).
func (s *Writer) Comment(text string) {
	if b := s.pending(); b != nil {
		*b = AppendComment(*b, text)
	}
}

// Err returns the first write error, or nil.
func (s *Writer) Err() error { return s.err }

// Written returns how many bytes have been written to the connection.
func (s *Writer) Written() int64 { return s.written }

// Flush writes what is buffered and flushes the connection, within the
// write timeout. The deadline is moved only when an eighth of the timeout
// has passed since it was last set, so that a busy stream does not reset
// the connection's timer on every flush: each flush gets between 7/8 of
// the timeout and all of it.
func (s *Writer) Flush() error {
	if s.err != nil {
		return s.err
	}
	if s.timeout > 0 {
		if now := time.Now(); s.deadline.IsZero() || s.deadline.Sub(now) < s.timeout-s.timeout/8 {
			s.setDeadline(now.Add(s.timeout))
		}
	}
	if s.conn != nil {
		return s.flushConn()
	}
	if s.buf != nil {
		b := s.buf
		s.buf = nil
		var n int
		n, s.err = s.w.Write(*b)
		s.written += int64(n)
		if cap(*b) <= maxPooled {
			*b = (*b)[:0]
			bufPool.Put(b)
		}
		if s.err != nil {
			return s.err
		}
	}
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.err = err
	}
	return s.err
}

// End clears the write deadline, so that a connection reused for another
// request does not inherit it (net/http resets it only when the server has
// a WriteTimeout), and returns the buffer of anything left unflushed. The
// stream must not be written after End.
func (s *Writer) End() {
	if s.buf != nil {
		*s.buf = (*s.buf)[:0]
		bufPool.Put(s.buf)
		s.buf = nil
	}
	if s.conn == nil && s.timeout > 0 && !s.deadline.IsZero() {
		s.setDeadline(time.Time{})
	}
}

func (s *Writer) setDeadline(t time.Time) {
	s.deadline = t
	if s.conn != nil {
		if err := s.conn.SetWriteDeadline(t); err != nil && s.err == nil {
			s.err = err
		}
		return
	}
	if err := s.rc.SetWriteDeadline(t); err != nil && !errors.Is(err, http.ErrNotSupported) && s.err == nil {
		s.err = err
	}
}
