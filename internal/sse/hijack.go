package sse

import (
	"errors"
	"net"
	"strconv"
	"time"
)

// A Writer can take its connection over from net/http (Hijack) once the
// response headers are out, and go on writing the same response on the
// bare connection: the handler can return, and with it the connection's
// goroutine and net/http's buffers, while the stream stays open. That is
// what lets an idle SSE stream cost little more than its socket.

// chunkRoom is the room kept in front of a chunked flush's bytes for the
// chunk header: up to 8 hex digits of size and CRLF.
var chunkRoom [10]byte

// lastChunk ends a chunked body: the last chunk and an empty trailer
// section (RFC 9112 §7.1).
const lastChunk = "0\r\n\r\n"

// ErrHijacked is the error of a Writer whose connection Hijack took and
// Close closed.
var ErrHijacked = errors.New("sse: stream closed")

// Hijack flushes what is buffered and takes the response's connection over
// from net/http (http.ResponseController.Hijack): from then on the Writer
// writes its events on the connection itself, framed as the response's
// body was, and the handler may return. chunked says whether the response
// uses the chunked transfer coding, as net/http chose for it: an HTTP/1.1
// response without Content-Length is chunked, an HTTP/1.0 one is not and
// ends when the connection closes. The caller must read the connection (a
// client that closes it, or sends anything, is gone) and Close the Writer
// when the stream is over.
//
// It returns the connection and whether the client had sent bytes after
// its request (they are lost: a client does not pipeline requests behind
// an event stream). On failure (http.ErrNotSupported for HTTP/2) the
// Writer is unchanged and goes on writing through the ResponseWriter.
func (s *Writer) Hijack(chunked bool) (conn net.Conn, extra bool, err error) {
	if err := s.Flush(); err != nil {
		return nil, false, err
	}
	conn, brw, err := s.rc.Hijack()
	if err != nil {
		return nil, false, err
	}
	// net/http cleared the connection's deadlines.
	s.conn, s.chunked, s.deadline = conn, chunked, time.Time{}
	s.w, s.rc = nil, nil
	return conn, brw.Reader.Buffered() > 0, nil
}

// Hijacked reports whether Hijack took the connection.
func (s *Writer) Hijacked() bool { return s.conn != nil }

// flushConn writes what is buffered to a hijacked connection, as one
// chunk when chunked.
func (s *Writer) flushConn() error {
	if s.buf == nil {
		return nil
	}
	b := s.buf
	s.buf = nil
	out := *b
	body := len(out)
	if s.chunked {
		// Fill the room kept in front with "<size>\r\n" and end with CRLF.
		body -= len(chunkRoom)
		var head [len(chunkRoom)]byte
		h := strconv.AppendInt(head[:0], int64(body), 16)
		h = append(h, '\r', '\n')
		start := len(chunkRoom) - len(h)
		copy(out[start:], h)
		full := append(out, '\r', '\n')
		out = full[start:]
		*b = full[:0] // the buffer, grown or not, goes back to the pool
	}
	n, err := s.conn.Write(out)
	if n == len(out) {
		s.written += int64(body)
	}
	s.err = err
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
	return s.err
}

// Close ends a hijacked stream: the last chunk, if the response is chunked
// and nothing failed, then the connection closes. It returns the buffer of
// anything left unflushed. Further calls do nothing.
func (s *Writer) Close() error {
	if s.conn == nil {
		return nil
	}
	if s.buf != nil {
		*s.buf = (*s.buf)[:0]
		bufPool.Put(s.buf)
		s.buf = nil
	}
	if s.err == nil && s.chunked {
		if s.timeout > 0 {
			s.setDeadline(time.Now().Add(s.timeout))
		}
		if s.err == nil {
			_, s.err = s.conn.Write([]byte(lastChunk))
		}
	}
	err := s.conn.Close()
	if s.err == nil {
		s.err = ErrHijacked
	}
	return err
}
