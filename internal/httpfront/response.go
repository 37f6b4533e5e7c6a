package httpfront

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/httpkit"
)

// maxBuffered is how much of a response body the fast lane holds to send
// with its Content-Length in one write; a larger one is streamed chunked.
const maxBuffered = 64 << 10

var errHandlerDone = errors.New("httpfront: the handler has returned")

// response is the fast lane's http.ResponseWriter, one per request. It
// supports http.ResponseController's Flush, Hijack, SetReadDeadline,
// SetWriteDeadline and EnableFullDuplex.
type response struct {
	c      *fastConn
	header http.Header
	status int

	wroteHeader bool
	bodyAllowed bool
	declared    int64 // the handler's Content-Length, or -1
	written     int64 // body bytes the handler wrote

	buf *[]byte // the body so far, until streaming

	streaming bool // the head is sent; the body goes through bw
	chunked   bool
	bw        *bufio.Writer

	hijacked    bool
	closeAfter  bool // the connection closes after this response
	handlerDone bool

	body   *body        // the request's
	hold   atomic.Int32 // holdNone… (hold.go)
	heldAt int64        // when Hold ran (Unix ns)
}

func (w *response) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

func (w *response) WriteHeader(code int) {
	if w.hijacked || w.wroteHeader || w.handlerDone {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	h := w.Header()
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.informational(code)
		return
	}
	w.wroteHeader = true
	w.status = code
	w.bodyAllowed = code != http.StatusNoContent && code != http.StatusNotModified && code >= 200
	// The framing is the server's: a handler's Transfer-Encoding goes,
	// its Content-Length stays if it is a number.
	delete(h, "Transfer-Encoding")
	w.declared = -1
	if vs, ok := h["Content-Length"]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(firstOf(vs)), 10, 64)
		if err != nil || n < 0 || len(vs) != 1 {
			delete(h, "Content-Length")
		} else {
			w.declared = n
		}
	}
	if !w.bodyAllowed {
		delete(h, "Content-Length")
		w.declared = -1
	}
	if c := h["Connection"]; len(c) > 0 && strings.EqualFold(c[0], "close") {
		w.closeAfter = true
	}
}

// informational sends a 1xx response at once (103 Early Hints and the
// like); the final response follows.
func (w *response) informational(code int) {
	out := w.c.getBuf()
	*out = appendHead((*out)[:0], code, w.header)
	*out = append(*out, crlf...)
	w.c.nc.Write(*out) //nolint:errcheck // a failed write shows on the final response
	w.c.putBuf(out)
}

// admit readies the response for n more body bytes, or says why it
// cannot take them.
func (w *response) admit(n int) error {
	switch {
	case w.hijacked:
		return http.ErrHijacked
	case w.handlerDone:
		return errHandlerDone
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	switch {
	case !w.bodyAllowed:
		return http.ErrBodyNotAllowed
	case w.declared >= 0 && w.written+int64(n) > w.declared:
		return http.ErrContentLength
	}
	return nil
}

func (w *response) Write(p []byte) (int, error) {
	if err := w.admit(len(p)); err != nil {
		return 0, err
	}
	w.written += int64(len(p))
	if !w.streaming {
		if w.buf == nil {
			w.buf = w.c.getBuf()
		}
		if len(*w.buf)+len(p) <= maxBuffered {
			*w.buf = append(*w.buf, p...)
			return len(p), nil
		}
		if err := w.startStream(); err != nil {
			return 0, err
		}
	}
	return w.writeStream(p)
}

// WriteString saves io.WriteString a conversion while the body is
// buffered.
func (w *response) WriteString(s string) (int, error) {
	if w.streaming || w.buffered()+len(s) > maxBuffered {
		return w.Write([]byte(s))
	}
	if err := w.admit(len(s)); err != nil {
		return 0, err
	}
	if w.buf == nil {
		w.buf = w.c.getBuf()
	}
	w.written += int64(len(s))
	*w.buf = append(*w.buf, s...)
	return len(s), nil
}

func (w *response) buffered() int {
	if w.buf == nil {
		return 0
	}
	return len(*w.buf)
}

// startStream sends the head, and the body written so far, and from then
// on writes the body through bw: chunked unless the handler declared its
// length.
func (w *response) startStream() error {
	w.streaming = true
	w.chunked = w.bodyAllowed && w.declared < 0
	w.bw = w.c.getWriter()
	h := w.Header()
	if w.chunked {
		h["Transfer-Encoding"] = chunkedValue
	}
	w.finishHeader(h, false)
	out := w.c.getBuf()
	*out = appendHead((*out)[:0], w.status, h)
	*out = append(*out, crlf...)
	_, err := w.bw.Write(*out)
	w.c.putBuf(out)
	delete(h, "Transfer-Encoding")
	if err != nil {
		return err
	}
	if w.buf != nil {
		pending := *w.buf
		*w.buf = (*w.buf)[:0]
		if len(pending) > 0 {
			if _, err := w.writeStream(pending); err != nil {
				return err
			}
		}
		w.c.putBuf(w.buf)
		w.buf = nil
	}
	return nil
}

var chunkedValue = []string{"chunked"}

func (w *response) writeStream(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if w.chunked {
		var size [16]byte
		w.bw.Write(strconv.AppendInt(size[:0], int64(len(p)), 16)) //nolint:errcheck // bufio keeps the first error
		w.bw.Write(crlf)                                           //nolint:errcheck
		if _, err := w.bw.Write(p); err != nil {
			return 0, err
		}
		_, err := w.bw.Write(crlf)
		return len(p), err
	}
	return w.bw.Write(p)
}

// Flush sends what is written so far; the response streams from then on.
func (w *response) Flush() { w.FlushError() } //nolint:errcheck // http.Flusher has no error

// FlushError is Flush for http.ResponseController.
func (w *response) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if w.handlerDone {
		return errHandlerDone
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.streaming {
		if err := w.startStream(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}

// Hijack hands the connection to the handler, after sending what was
// written (as net/http does); the returned reader holds bytes the client
// sent past this request's body.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.handlerDone {
		return nil, nil, errHandlerDone
	}
	if w.wroteHeader && !w.streaming {
		if err := w.startStream(); err != nil {
			return nil, nil, err
		}
	}
	w.c.stopWatch() // the connection's reads are the hijacker's
	bw := w.bw
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return nil, nil, err
		}
		w.bw = nil // the hijacker's now: never pooled
	} else {
		bw = bufio.NewWriter(w.c.nc)
	}
	w.hijacked = true
	w.c.hijacked()
	return w.c.nc, bufio.NewReadWriter(w.c.br, bw), nil
}

func (w *response) SetReadDeadline(t time.Time) error  { return w.c.nc.SetReadDeadline(t) }
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.nc.SetWriteDeadline(t) }

// EnableFullDuplex: the fast lane lets a handler read the body while it
// writes anyway.
func (w *response) EnableFullDuplex() error { return nil }

// finish ends the response after the handler returned: the whole response
// in one write, or the end of the stream.
func (w *response) finish(closing bool) error {
	if w.hijacked {
		w.handlerDone = true
		return nil
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.handlerDone = true
	if closing {
		w.closeAfter = true
	}
	if w.streaming {
		if w.declared >= 0 && w.written < w.declared {
			w.closeAfter = true // the client waits for bytes that never come
		}
		if w.chunked {
			w.bw.Write(lastChunk) //nolint:errcheck // Flush reports it
		}
		err := w.bw.Flush()
		w.c.putWriter(w.bw)
		w.bw = nil
		return err
	}
	var bodyBytes []byte
	if w.buf != nil {
		bodyBytes = *w.buf
	}
	h := w.Header()
	if w.declared >= 0 && w.declared != int64(len(bodyBytes)) {
		w.closeAfter = true // fewer bytes than declared
	}
	w.finishHeader(h, true)
	out := w.c.getBuf()
	*out = appendHead((*out)[:0], w.status, h)
	if w.bodyAllowed && w.declared < 0 {
		*out = append(*out, "Content-Length: "...)
		*out = strconv.AppendInt(*out, int64(len(bodyBytes)), 10)
		*out = append(*out, crlf...)
	}
	*out = append(*out, crlf...)
	*out = append(*out, bodyBytes...)
	_, err := w.c.nc.Write(*out)
	w.c.putBuf(out)
	if w.buf != nil {
		w.c.putBuf(w.buf)
		w.buf = nil
	}
	return err
}

var lastChunk = []byte("0\r\n\r\n")

// finishHeader adds what net/http's server adds: Date, a sniffed
// Content-Type for a body without one, Connection: close when the
// connection ends after this response.
func (w *response) finishHeader(h http.Header, whole bool) {
	if _, ok := h["Date"]; !ok {
		h["Date"] = httpkit.DateHeader(time.Now())
	}
	if _, ok := h["Content-Type"]; !ok && w.bodyAllowed && whole && w.buf != nil && len(*w.buf) > 0 {
		h["Content-Type"] = []string{http.DetectContentType(*w.buf)}
	}
	if w.closeAfter {
		h["Connection"] = closeValue
	}
}

var closeValue = []string{"close"}

// appendHead appends the status line and h's fields (without the blank
// line). Field names net/http would not send are dropped; CR and LF in
// values become spaces, as net/http's server does.
func appendHead(out []byte, code int, h http.Header) []byte {
	out = append(out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(code), 10)
	out = append(out, ' ')
	if text := http.StatusText(code); text != "" {
		out = append(out, text...)
	} else {
		out = append(out, "status code "...)
		out = strconv.AppendInt(out, int64(code), 10)
	}
	out = append(out, crlf...)
	for k, vs := range h {
		if !writeHeaderName(k) {
			continue
		}
		for _, v := range vs {
			out = append(out, k...)
			out = append(out, ": "...)
			out = appendFieldValue(out, v)
			out = append(out, crlf...)
		}
	}
	return out
}

func appendFieldValue(out []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\r', '\n':
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return out
}

func firstOf(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
