package httpfront

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// readBufferSize is the fast lane's read buffer: a request header must fit
// in it whole to take the fast lane (net/http's server reads with the same
// size).
const readBufferSize = 4096

// maxDrain is how much of a body the handler left unread the loop skips to
// keep the connection; past it the connection closes (net/http's figure).
const maxDrain = 256 << 10

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}

// fastConn is one connection on the fast lane.
type fastConn struct {
	s          *Server
	nc         net.Conn
	cr         connReader    // br's source
	br         *bufio.Reader // reads cr
	remoteAddr string
	active     atomic.Bool // serving a request (Shutdown waits for it)
	taken      bool        // hijacked or handed to net/http: not ours to close

	// The watch for a client that goes away during a slow request.
	servingSince atomic.Int64  // when the running handler started (Unix ns); 0 if none
	mu           sync.Mutex    // guards the fields below, and br while serving
	serving      bool          // a handler runs
	reqBody      *body         // its body
	reqCancel    func()        // ends its context
	watchDone    chan struct{} // closed when the running watch returns; nil if none
	aborting     atomic.Bool   // stopWatch ends the watch's read
	gone         atomic.Bool   // the watch saw the client go: close after the response
}

// connReader is br's source: the connection, after the byte a watch read
// ahead (the start of a pipelined request).
type connReader struct {
	nc      net.Conn
	hasByte bool
	b       [1]byte
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.hasByte && len(p) > 0 {
		p[0] = r.b[0]
		r.hasByte = false
		return 1, nil
	}
	return r.nc.Read(p)
}

// watchDelay is how long a request runs before the fast lane watches its
// connection for the client going away (closing its connection cancels
// the request's context, as on net/http: for a 2026-07-28 call that is the
// cancellation). Requests that end sooner, almost all, pay for no watch;
// net/http watches every request from its start. The server's sweep finds
// the requests to watch (Server.sweep): no timer per request, whose
// arming would wake the network poller each time.
const watchDelay = 20 * time.Millisecond

// testHookWatching, if set, runs when a watch starts (atomic: a closed
// server's sweep may still be finishing while a test ends).
var testHookWatching atomic.Pointer[func()]

// startServing records the request a handler is about to serve and arms
// the watch.
func (c *fastConn) startServing(b *body, cancel func()) {
	c.mu.Lock()
	c.serving, c.reqBody, c.reqCancel = true, b, cancel
	c.mu.Unlock()
	c.servingSince.Store(time.Now().UnixNano())
	c.s.serving.Add(1)
	c.s.wakeSweep()
}

// maybeWatch starts the watch of a request still being served, once its
// body is read (until then the handler reads the connection) and unless
// the client already sent more (a pipelined request: it is there).
func (c *fastConn) maybeWatch() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.serving || c.watchDone != nil {
		return
	}
	// done's load orders the handler's last read of br before ours; until
	// then the next sweep looks again.
	if !c.reqBody.done.Load() {
		return
	}
	if c.br.Buffered() > 0 || c.cr.hasByte {
		return
	}
	done := make(chan struct{})
	c.watchDone = done
	cancel := c.reqCancel
	go c.watch(done, cancel)
	if hook := testHookWatching.Load(); hook != nil {
		(*hook)()
	}
}

// watch reads the connection while a handler runs: a byte is a pipelined
// request's, kept for the loop; an error other than stopWatch's means the
// client went away.
func (c *fastConn) watch(done chan struct{}, cancel func()) {
	defer close(done)
	n, err := c.nc.Read(c.cr.b[:])
	if n == 1 {
		c.cr.hasByte = true
		return
	}
	if err != nil && !c.aborting.Load() {
		c.gone.Store(true)
		cancel()
	}
}

// stopWatch disarms the watch and ends a running one; after it the
// connection is the caller's to read.
func (c *fastConn) stopWatch() {
	if c.servingSince.Swap(0) != 0 {
		c.s.serving.Add(-1)
	}
	c.mu.Lock()
	c.serving = false
	c.reqBody, c.reqCancel = nil, nil
	done := c.watchDone
	c.watchDone = nil
	c.mu.Unlock()
	if done == nil {
		return
	}
	c.aborting.Store(true)
	c.nc.SetReadDeadline(aLongTimeAgo)
	<-done
	c.aborting.Store(false)
	c.nc.SetReadDeadline(time.Time{})
}

var aLongTimeAgo = time.Unix(1, 0)

func (c *fastConn) getBuf() *[]byte {
	b := bufPool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

func (c *fastConn) putBuf(b *[]byte) {
	if cap(*b) <= maxBuffered+readBufferSize {
		bufPool.Put(b)
	}
}

func (c *fastConn) getWriter() *bufio.Writer {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(c.nc)
	return bw
}

func (c *fastConn) putWriter(bw *bufio.Writer) {
	bw.Reset(nil)
	writerPool.Put(bw)
}

func (c *fastConn) hijacked() {
	c.taken = true
	c.s.forget(c)
}

var (
	errHeadTooLarge = errors.New("header larger than the read buffer")
	errBareLF       = errors.New("header with a bare LF")
)

// bareLF reports whether b has an LF without a CR before it; afterCR says
// whether the byte before b is a CR.
func bareLF(b []byte, afterCR bool) bool {
	for i, c := range b {
		if c == '\n' && !(i == 0 && afterCR) && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}

// serve runs the connection's loop: requests the fast lane qualifies are
// served here, the first one that does not goes to net/http with the
// connection.
func (c *fastConn) serve() { c.loop(0, nil) }

// loop serves the connection from its n-th request on, after sending held,
// a response its handler held and that went without it (Hold): from then
// on this goroutine owns the connection.
func (c *fastConn) loop(n int, held *response) {
	var cur *response // the response being served
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			c.s.log.Error("panic serving a request", "remote", c.remoteAddr, "panic", v, "stack", string(debug.Stack()))
		}
		if cur != nil && !cur.claim() {
			return // its response went without the handler: the connection is another goroutine's
		}
		c.stopWatch() // after a panic too
		if !c.taken {
			c.s.forget(c)
			c.nc.Close()
			c.br.Reset(nil)
			readerPool.Put(c.br)
		}
	}()
	if held != nil {
		c.stopWatch()
		if !c.finishResponse(held) {
			return
		}
		c.active.Store(false)
	}
	o := &c.s.opts
	for ; ; n++ {
		// Between requests the idle timeout runs; from a request's first
		// byte (a new connection's: from accepting it) the header timeout.
		if n == 0 {
			c.nc.SetReadDeadline(time.Now().Add(o.ReadHeaderTimeout))
		} else {
			c.nc.SetReadDeadline(time.Now().Add(o.IdleTimeout))
		}
		if _, err := c.br.Peek(1); err != nil {
			return
		}
		c.active.Store(true)
		if c.s.closing.Load() {
			return // shutting down: a request not yet read is not served
		}
		if n > 0 {
			c.nc.SetReadDeadline(time.Now().Add(o.ReadHeaderTimeout))
		}
		head, err := c.peekHead()
		if errors.Is(err, errHeadTooLarge) || errors.Is(err, errBareLF) {
			c.handOff()
			return
		}
		if err != nil {
			return // the client went away or was too slow: as net/http, no answer
		}
		length, ok := qualify(head, o.Fast)
		if !ok {
			c.handOff()
			return
		}
		if !c.serveOne(length, &cur) {
			return
		}
		cur = nil
		c.active.Store(false)
	}
}

// peekHead returns the request header at the start of the buffer, reading
// until its blank line is buffered.
func (c *fastConn) peekHead() ([]byte, error) {
	from := 0
	for {
		buf, _ := c.br.Peek(c.br.Buffered())
		if i := bytes.Index(buf[from:], crlfCRLF); i >= 0 {
			return buf[:from+i+4], nil
		}
		if bareLF(buf[from:], from > 0 && buf[from-1] == '\r') {
			return nil, errBareLF // a header we would not recognise the end of: net/http's
		}
		if len(buf) >= c.br.Size() {
			return nil, errHeadTooLarge
		}
		from = max(0, len(buf)-3)
		if _, err := c.br.Peek(len(buf) + 1); err != nil {
			return nil, err
		}
	}
}

// serveOne serves the qualified request at the start of the buffer and
// reports whether this goroutine may serve another on the connection; cur
// is set to the response while its handler runs.
func (c *fastConn) serveOne(length int64, cur **response) bool {
	req, err := http.ReadRequest(c.br)
	if err != nil || req.ContentLength != length || req.ProtoMajor != 1 || req.ProtoMinor != 1 ||
		len(req.TransferEncoding) != 0 || req.Close {
		// qualify accepts only what http.ReadRequest parses so (fuzzed);
		// should they ever disagree, refuse rather than guess.
		c.nc.Write(badRequest) //nolint:errcheck // closing anyway
		return false
	}
	c.nc.SetReadDeadline(time.Time{}) // as net/http with no ReadTimeout: the body is bounded by size, not time
	req.RemoteAddr = c.remoteAddr
	b := &body{br: c.br, remain: length}
	req.Body = b
	if length == 0 {
		req.Body = http.NoBody
		b.done.Store(true)
	}
	c.s.fast.Add(1)
	ctx, cancel := context.WithCancel(c.s.baseCtx)
	defer cancel() // after a panic too
	req = req.WithContext(ctx)
	w := &response{c: c, body: b}
	*cur = w
	c.startServing(b, cancel)
	c.s.opts.Handler.ServeHTTP(w, req)
	if !w.claim() {
		return false // held, and sent without the handler: no longer ours
	}
	c.stopWatch()
	cancel()
	return c.finishResponse(w)
}

// finishResponse sends w after its handler (or without it, held), skips
// what is left of the request's body, and reports whether the connection
// may carry another request.
func (c *fastConn) finishResponse(w *response) bool {
	if w.hijacked {
		return false
	}
	b := w.body
	b.closed = true
	// A body the handler left is skipped when small; a large one, or a
	// broken one, ends the connection after this response, as does a
	// client the watch saw go.
	closing := c.s.closing.Load() || b.broken || b.remain > maxDrain || c.gone.Load()
	if err := w.finish(closing); err != nil || w.closeAfter {
		return false
	}
	if b.remain > 0 {
		c.nc.SetReadDeadline(time.Now().Add(c.s.opts.ReadHeaderTimeout))
		if _, err := io.CopyN(io.Discard, c.br, b.remain); err != nil {
			return false
		}
	}
	return true
}

// badRequest answers a request the fast lane took but could not parse, in
// the gateway's JSON error shape.
var badRequest = func() []byte {
	const msg = `{"error":"bad_request","message":"Malformed HTTP request"}`
	return []byte("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(msg)) + "\r\n\r\n" + msg)
}()

// handOff gives the connection, with what is buffered, to net/http.
func (c *fastConn) handOff() {
	c.taken = true
	c.s.forget(c)
	c.s.handOff(c.nc, c.br)
}

// replayConn is a connection handed to net/http: its reads return the
// bytes the fast lane had buffered first.
type replayConn struct {
	net.Conn
	br *bufio.Reader // nil once drained
}

func (c *replayConn) Read(p []byte) (int, error) {
	if c.br == nil {
		return c.Conn.Read(p)
	}
	n, err := c.br.Read(p) // something is buffered: no read of the connection
	if c.br.Buffered() == 0 {
		// Drained (the loop peeked before handing off: no byte is left in
		// a connReader): the reader goes back to the pool at once, not
		// with the connection, which may live for hours as a stream.
		c.br.Reset(nil)
		readerPool.Put(c.br)
		c.br = nil
	}
	return n, err
}

// CloseWrite lets net/http half-close the connection, as it does on a
// *net.TCPConn, after refusing a request whose body it will not read.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
