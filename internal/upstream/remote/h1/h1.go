// Package h1 is a lean HTTP/1.1 client transport for the gateway's remote
// upstreams over plain http://, beside net/http's Transport for everything
// else.
//
// net/http's Transport hands every request to two goroutines of its own
// per connection (a writer and a reader) and back, through channels, with
// its connection-pool bookkeeping around each hop: in front of a fast
// upstream that machinery was about a fifth of the gateway's CPU per call
// (docs/performance.md, "Seventh pass"). Transport here does the same
// exchange on the caller's goroutine: it takes a kept-alive connection
// from its pool (or dials), writes the request with net/http's own
// serializer (Request.Write), reads the response with net/http's own parser
// (http.ReadResponse, its header bounded like the fallback's
// MaxResponseHeaderBytes), and puts the connection back once the body has
// been read to its end. A context that ends aborts the exchange at any
// point, the body's reads included (a deadline in the past on the socket).
//
// One difference in behaviour: the request is written whole before the
// response is read (net/http reads while it writes), so a server that
// answers a large request early without reading its body, and then closes,
// shows as a write error rather than its early answer. The gateway's
// requests are JSON-RPC messages that a socket buffer holds.
//
// Everything it does not do goes to the fallback *http.Transport: https://
// (TLS, HTTP/2), requests a proxy is configured for (the fallback's Proxy
// func, asked once per host), and other schemes. It never follows
// redirects (that is the http.Client's business, and the gateway's client
// refuses them) and asks for no compression.
//
// A kept-alive connection is checked before it is used again (one
// non-blocking peek): one the server closed while it sat idle, or sent
// bytes on, is dropped and another taken. A request that still fails on a
// kept-alive connection before any byte of a response arrives is sent
// again on a new one only when net/http would: its method is idempotent
// (or it carries an Idempotency-Key) and its body can be replayed. A
// tools/call POST is never sent twice.
//
// It owns its idle connections and nothing else.
package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults for the Transport's limits when the fallback sets none.
const (
	DefaultMaxIdlePerHost = 64
	DefaultIdleTimeout    = 90 * time.Second
	DefaultMaxHeaderBytes = 64 << 10
	dialTimeout           = 10 * time.Second
)

// Transport is an http.RoundTripper; see the package doc. Its zero value is
// not usable: build it with New.
type Transport struct {
	fallback       *http.Transport
	dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdlePerHost int
	idleTimeout    time.Duration
	maxHeaderBytes int64

	mu    sync.Mutex
	idle  map[string][]*conn // by host:port, most recently used last
	hosts map[string]bool    // host:port → requests go direct (no proxy)
	// sweeping: a sweep is scheduled, which closes the idle connections
	// that outlived idleTimeout (one timer for the pool, not one per
	// connection).
	sweeping bool
}

// New returns a Transport that takes its limits (MaxIdleConnsPerHost,
// IdleConnTimeout, MaxResponseHeaderBytes), its dialer and its proxy
// setting from fallback, and hands it what it does not serve itself.
func New(fallback *http.Transport) *Transport {
	t := &Transport{
		fallback:       fallback,
		dial:           fallback.DialContext,
		maxIdlePerHost: fallback.MaxIdleConnsPerHost,
		idleTimeout:    fallback.IdleConnTimeout,
		maxHeaderBytes: fallback.MaxResponseHeaderBytes,
		idle:           make(map[string][]*conn),
		hosts:          make(map[string]bool),
	}
	if t.dial == nil {
		t.dial = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	if t.maxIdlePerHost <= 0 {
		t.maxIdlePerHost = DefaultMaxIdlePerHost
	}
	if t.idleTimeout <= 0 {
		t.idleTimeout = DefaultIdleTimeout
	}
	if t.maxHeaderBytes <= 0 {
		t.maxHeaderBytes = DefaultMaxHeaderBytes
	}
	return t
}

// Fallback is the transport for what Transport does not serve.
func (t *Transport) Fallback() *http.Transport { return t.fallback }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	key, ok := t.directKey(req)
	if !ok {
		return t.fallback.RoundTrip(req)
	}
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		c, err := t.getConn(ctx, key)
		if err != nil {
			closeBody(req)
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			return nil, err
		}
		resp, err := c.roundTrip(req)
		if err == nil {
			return resp, nil
		}
		c.close()
		var idle *idleClosedError
		if attempt > 0 || !errors.As(err, &idle) || ctx.Err() != nil || !replayable(req) {
			return nil, err
		}
		if req, err = rewind(req); err != nil {
			return nil, idle.err // the original failure says more
		}
	}
}

// CloseIdleConnections closes the kept-alive connections of both
// transports.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = make(map[string][]*conn)
	t.mu.Unlock()
	for _, cs := range idle {
		closeAll(cs)
	}
	t.fallback.CloseIdleConnections()
}

// directKey returns the host:port to connect to when Transport serves req
// itself: plain http://, no proxy for that host, and a request net/http
// would send as is.
func (t *Transport) directKey(req *http.Request) (string, bool) {
	u := req.URL
	if u == nil || u.Scheme != "http" || u.Host == "" || u.User != nil || req.Method == http.MethodConnect {
		return "", false
	}
	key := u.Host
	if u.Port() == "" {
		key = net.JoinHostPort(u.Hostname(), "80")
	}
	t.mu.Lock()
	direct, known := t.hosts[key]
	t.mu.Unlock()
	if !known {
		direct = true
		if t.fallback.Proxy != nil {
			p, err := t.fallback.Proxy(&http.Request{URL: &url.URL{Scheme: "http", Host: key}, Header: http.Header{}})
			direct = err == nil && p == nil
		}
		t.mu.Lock()
		if len(t.hosts) < 4096 { // a gateway has a handful of upstream hosts
			t.hosts[key] = direct
		}
		t.mu.Unlock()
	}
	return key, direct
}

// getConn takes the most recently used idle connection to key that has not
// sat too long, or dials a new one.
func (t *Transport) getConn(ctx context.Context, key string) (*conn, error) {
	now := time.Now()
	var stale []*conn
	t.mu.Lock()
	for cs := t.idle[key]; len(cs) > 0; cs = t.idle[key] {
		c := cs[len(cs)-1]
		cs[len(cs)-1] = nil
		t.idle[key] = cs[:len(cs)-1]
		if now.Sub(c.idleAt) < t.idleTimeout && c.alive() {
			t.mu.Unlock()
			closeAll(stale)
			return c, nil
		}
		stale = append(stale, c)
	}
	t.mu.Unlock()
	closeAll(stale)
	nc, err := t.dial(ctx, "tcp", key)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", key, err)
	}
	c := &conn{t: t, key: key, nc: nc, bw: bufio.NewWriterSize(nc, 4<<10)}
	c.br = bufio.NewReaderSize(c, 4<<10)
	if sc, ok := nc.(syscall.Conn); ok {
		c.rc, _ = sc.SyscallConn()
	}
	return c, nil
}

// putIdle keeps c for the next request to its host, unless enough are kept.
func (t *Transport) putIdle(c *conn) {
	if c.br.Buffered() > 0 { // bytes past the response: not a clean connection
		c.close()
		return
	}
	c.idleAt = time.Now()
	c.reused = true
	t.mu.Lock()
	if cs := t.idle[c.key]; len(cs) < t.maxIdlePerHost {
		t.idle[c.key] = append(cs, c)
		if !t.sweeping {
			t.sweeping = true
			time.AfterFunc(t.idleTimeout, t.sweep)
		}
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	c.close()
}

// sweep closes the idle connections older than idleTimeout and schedules
// the next sweep while any are left.
func (t *Transport) sweep() {
	cutoff := time.Now().Add(-t.idleTimeout)
	var stale []*conn
	t.mu.Lock()
	for key, cs := range t.idle {
		i := 0
		for i < len(cs) && !cs[i].idleAt.After(cutoff) { // oldest first
			i++
		}
		if i > 0 {
			stale = append(stale, cs[:i]...)
			t.idle[key] = append(cs[:0], cs[i:]...)
		}
		if len(t.idle[key]) == 0 {
			delete(t.idle, key)
		}
	}
	t.sweeping = len(t.idle) > 0
	if t.sweeping {
		time.AfterFunc(t.idleTimeout/2, t.sweep)
	}
	t.mu.Unlock()
	closeAll(stale)
}

// conn is one connection to a host: its buffered reader reads through conn
// itself, which bounds what a response's header may take.
type conn struct {
	t      *Transport
	key    string
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	limit  int64 // bytes Read may still return: the header bound, then unbounded
	nread  int64 // bytes read since the request was written
	idleAt time.Time
	reused bool            // it carried a response before
	rc     syscall.RawConn // for alive; nil when the dialer's conn has none
	closed atomic.Bool
}

// alive reports whether an idle connection can carry a request: the server
// has neither closed it nor sent anything on it. It peeks without waiting
// (one system call); a connection it cannot look into counts as alive.
func (c *conn) alive() bool {
	if c.rc == nil {
		return true
	}
	ok := true
	err := c.rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Nothing to read: still open. EOF, data or an error: not usable.
		ok = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true // never wait for the socket
	})
	return ok && err == nil
}

func (c *conn) Read(p []byte) (int, error) {
	if c.limit <= 0 {
		return 0, fmt.Errorf("response header larger than %d bytes", c.t.maxHeaderBytes)
	}
	if int64(len(p)) > c.limit {
		p = p[:c.limit]
	}
	n, err := c.nc.Read(p)
	c.limit -= int64(n)
	c.nread += int64(n)
	return n, err
}

func (c *conn) close() {
	if c.closed.CompareAndSwap(false, true) {
		c.nc.Close()
	}
}

// aLongTimeAgo is a deadline that has passed: setting it fails blocked
// reads and writes at once.
var aLongTimeAgo = time.Unix(1, 0)

// roundTrip writes req and reads the response's header on c. The body is
// left for the caller, wrapped so that it returns c to the pool at its end.
func (c *conn) roundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(aLongTimeAgo) })
	fail := func(err error, retry bool) (*http.Response, error) {
		stop()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if retry && c.reused {
			return nil, &idleClosedError{err}
		}
		return nil, err
	}
	c.nread = 0
	if err := req.Write(c.bw); err != nil {
		return fail(fmt.Errorf("writing the request: %w", err), isConnError(err))
	}
	if err := c.bw.Flush(); err != nil {
		return fail(fmt.Errorf("writing the request: %w", err), true)
	}
	c.limit = c.t.maxHeaderBytes
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			return fail(fmt.Errorf("reading the response: %w", err), c.nread == 0)
		}
		// 1xx answers other than 101 come before the real one.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	c.limit = math.MaxInt64
	if resp.StatusCode == http.StatusSwitchingProtocols {
		stop()
		return nil, errors.New("the upstream switched protocols")
	}
	b := &body{rc: resp.Body, c: c, stop: stop, ctx: ctx, reuse: !resp.Close && !req.Close && !c.t.fallback.DisableKeepAlives}
	if resp.Body == http.NoBody {
		b.finish(true)
		return resp, nil
	}
	resp.Body = b
	return resp, nil
}

// body is a response's body: at its end the connection goes back to the
// pool; closed before its end, the connection is closed (an SSE stream or
// a call given up). Close may come from another goroutine than Read, to
// abort it.
type body struct {
	rc    io.ReadCloser
	c     *conn
	stop  func() bool
	ctx   context.Context
	reuse bool
	done  atomic.Bool
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.finish(true)
	case err != nil:
		if b.ctx.Err() != nil {
			err = context.Cause(b.ctx)
		}
		b.finish(false)
	}
	return n, err
}

func (b *body) Close() error {
	b.finish(false)
	return nil
}

// finish ends the exchange once: the connection is kept when the body was
// read to its end, the context never fired, and neither side said close.
func (b *body) finish(eof bool) {
	if !b.done.CompareAndSwap(false, true) {
		return
	}
	if b.stop() && eof && b.reuse {
		b.c.t.putIdle(b.c)
		return
	}
	b.c.close()
}

// idleClosedError is a failure on a kept-alive connection before any byte
// of a response: the server closed it while it was idle, and the request
// may be sent again on a new one.
type idleClosedError struct{ err error }

func (e *idleClosedError) Error() string { return e.err.Error() }
func (e *idleClosedError) Unwrap() error { return e.err }

// isConnError reports whether a Request.Write error came from the
// connection rather than from the request (its body, its header).
func isConnError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.ErrClosedPipe)
}

// replayable reports whether req may be sent twice, as net/http decides:
// an idempotent method, or an Idempotency-Key, and a body that is empty or
// can be had again.
func replayable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, key := req.Header["Idempotency-Key"]
	_, xkey := req.Header["X-Idempotency-Key"]
	return key || xkey
}

// rewind returns req with a fresh body for a second attempt.
func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("the request body cannot be sent again")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := *req
	r.Body = body
	return &r, nil
}

func closeAll(cs []*conn) {
	for _, c := range cs {
		c.close()
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
