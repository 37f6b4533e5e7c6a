package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// h1conn is a minimal HTTP/1.1 client connection: one request at a time on
// one kept-alive connection, headers written from pre-rendered bytes, the
// response head parsed only for the fields the load client needs. It costs
// a fraction of net/http's client per request, which matters because the
// client shares the machine with the server it measures: what the client
// spends, the server cannot.
type h1conn struct {
	ctx  context.Context // bounds dials
	addr string          // host:port to dial
	host string          // the Host header
	c    net.Conn
	br   *bufio.Reader
	wbuf []byte

	resp  h1resp        // the head of the latest response
	body  []byte        // its body, when read with readBody
	chunk chunkedReader // its body, when chunked
	limit io.LimitedReader
}

// h1resp is the part of a response head the load client reads.
type h1resp struct {
	status        int
	contentLength int64 // -1: not given
	chunked       bool
	close         bool   // the server closes the connection after this response
	sse           bool   // Content-Type text/event-stream
	json          bool   // Content-Type application/json
	sessionID     []byte // Mcp-Session-Id, valid until the next request
	sidBuf        []byte
}

func newH1Conn(ctx context.Context, u *url.URL) *h1conn {
	return &h1conn{ctx: ctx, addr: u.Host, host: u.Host}
}

// errEmptyReply is a kept-alive connection closed before a response began:
// the server dropped it while it was idle, and the request can be retried.
var errEmptyReply = errors.New("connection closed before the response")

// do writes a request (hdr holds pre-rendered "Name: value\r\n" lines) and
// reads the response head into c.resp. The body is left for the caller: it
// must read it with readBody, bodyReader or discard before the next request.
func (c *h1conn) do(method, path string, hdr, body []byte) error {
	for attempt := 0; ; attempt++ {
		reused := c.c != nil
		err := c.try(method, path, hdr, body)
		if err == nil {
			return nil
		}
		c.drop()
		if !reused || attempt > 0 || !errors.Is(err, errEmptyReply) {
			return err
		}
	}
}

func (c *h1conn) try(method, path string, hdr, body []byte) error {
	if c.c == nil {
		d := net.Dialer{Timeout: 5 * time.Second}
		nc, err := d.DialContext(c.ctx, "tcp", c.addr)
		if err != nil {
			return err
		}
		c.c = nc
		if c.br == nil {
			c.br = bufio.NewReaderSize(nc, 16<<10)
		} else {
			c.br.Reset(nc)
		}
	}
	b := append(c.wbuf[:0], method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.host...)
	b = append(b, "\r\n"...)
	b = append(b, hdr...)
	if body != nil {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, body...)
	c.wbuf = b
	if _, err := c.c.Write(b); err != nil {
		return fmt.Errorf("%w: %w", errEmptyReply, err)
	}
	return c.readHead()
}

// drop closes the connection; the next request dials a new one.
func (c *h1conn) drop() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

func (c *h1conn) close() { c.drop() }

func (c *h1conn) readHead() error {
	r := &c.resp
	*r = h1resp{contentLength: -1, sidBuf: r.sidBuf[:0]}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return errEmptyReply
		}
		return fmt.Errorf("reading status line: %w", err)
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return fmt.Errorf("malformed status line %q", clip(line, 64))
	}
	r.status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return fmt.Errorf("malformed status line %q", clip(line, 64))
	}
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("reading response header: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		name, value := line[:i], bytes.TrimSpace(line[i+1:])
		switch {
		case asciiEqualFold(name, "content-length"):
			r.contentLength, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				return fmt.Errorf("malformed Content-Length %q", value)
			}
		case asciiEqualFold(name, "content-type"):
			r.sse = bytes.HasPrefix(value, []byte("text/event-stream"))
			r.json = bytes.HasPrefix(value, []byte("application/json"))
		case asciiEqualFold(name, "transfer-encoding"):
			r.chunked = bytes.Contains(value, []byte("chunked"))
		case asciiEqualFold(name, "connection"):
			r.close = bytes.EqualFold(value, []byte("close"))
		case asciiEqualFold(name, "mcp-session-id"):
			r.sidBuf = append(r.sidBuf[:0], value...)
			r.sessionID = r.sidBuf
		}
	}
	return nil
}

func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasBody reports whether the response carries a body to read.
func (r *h1resp) hasBody() bool {
	return r.status != 204 && r.status != 304 && (r.chunked || r.contentLength != 0)
}

// bodyReader returns a reader of the response body. The caller must read
// it to its end (or drop the connection).
func (c *h1conn) bodyReader() io.Reader {
	r := &c.resp
	switch {
	case !r.hasBody():
		return bytes.NewReader(nil)
	case r.chunked:
		c.chunk = chunkedReader{br: c.br}
		return &c.chunk
	case r.contentLength > 0:
		c.limit = io.LimitedReader{R: c.br, N: r.contentLength}
		return &c.limit
	}
	r.close = true // delimited by the end of the connection
	return c.br
}

// readBody reads the whole body into c.body.
func (c *h1conn) readBody() ([]byte, error) {
	r := &c.resp
	var err error
	switch {
	case !r.hasBody():
		c.body = c.body[:0]
	case !r.chunked && r.contentLength > 0:
		if int64(cap(c.body)) < r.contentLength {
			c.body = make([]byte, r.contentLength)
		}
		c.body = c.body[:r.contentLength]
		_, err = io.ReadFull(c.br, c.body)
	default:
		c.body, err = readAll(c.body[:0], c.bodyReader())
	}
	c.finish(err)
	return c.body, err
}

// discard reads the body to its end.
func (c *h1conn) discard() error {
	var err error
	if c.resp.hasBody() {
		_, err = io.Copy(io.Discard, c.bodyReader())
	}
	c.finish(err)
	return err
}

// finish ends a response: the connection is dropped if it cannot carry the
// next one.
func (c *h1conn) finish(err error) {
	if err != nil || c.resp.close {
		c.drop()
	}
}

// chunkedReader reads a chunked body (RFC 9112 §7.1), trailers included,
// so that the connection is positioned at the next response when it
// returns io.EOF.
type chunkedReader struct {
	br      *bufio.Reader
	n       int64 // bytes left in the current chunk
	inChunk bool  // a chunk's data (and its CRLF) is being read
	done    bool
}

func (r *chunkedReader) Read(p []byte) (int, error) {
	for r.n == 0 {
		if r.done {
			return 0, io.EOF
		}
		if r.inChunk { // the CRLF after a chunk's data
			if line, err := r.br.ReadSlice('\n'); err != nil || len(bytes.TrimRight(line, "\r\n")) != 0 {
				return 0, fmt.Errorf("reading chunk end: %w", orMalformed(err))
			}
			r.inChunk = false
		}
		line, err := r.br.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("reading chunk size: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return 0, fmt.Errorf("malformed chunk size %q", clip(line, 32))
		}
		if size == 0 { // the last chunk, then trailers up to a blank line
			for {
				t, err := r.br.ReadSlice('\n')
				if err != nil {
					return 0, fmt.Errorf("reading trailers: %w", err)
				}
				if len(bytes.TrimRight(t, "\r\n")) == 0 {
					break
				}
			}
			r.done = true
			return 0, io.EOF
		}
		r.n, r.inChunk = size, true
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n, err := r.br.Read(p)
	r.n -= int64(n)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func orMalformed(err error) error {
	if err == nil {
		return errors.New("malformed chunk")
	}
	return err
}
