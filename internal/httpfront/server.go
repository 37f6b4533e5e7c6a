package httpfront

import (
	"bufio"
	"context"
	"errors"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options configure a Server. Only Handler is required.
type Options struct {
	// Handler serves every request, on either lane.
	Handler http.Handler
	// Fast reports whether a request with this request line (method and
	// request target, as sent) may take the fast lane; it is called only
	// for requests that are otherwise plain (see the package doc). Nil:
	// no request does, every connection is net/http's.
	Fast func(method, target []byte) bool
	// NetHTTPOnly serves every connection with net/http, as if Fast were
	// nil: for ruling the fast lane out when diagnosing a client or proxy.
	NetHTTPOnly bool
	// ReadHeaderTimeout bounds reading a request's header, on both lanes
	// (on the fast lane from the request's first byte, a new connection's
	// from its acceptance). Zero means 10 s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection, on both lanes. Zero means 120 s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request header on net/http's lane (a header
	// the fast lane takes fits its 4 KiB read buffer). Zero means 64 KiB.
	MaxHeaderBytes int
	// MaxHold bounds how long a response its handler holds (Hold) waits
	// for the handler before it is sent anyway, give or take the sweep's
	// tick (MaxHold/2, or watchDelay/2 while nothing was held). Zero means
	// DefaultMaxHold.
	MaxHold time.Duration
	// ErrorLog is net/http's error log. Nil means net/http's default.
	ErrorLog *log.Logger
	// Log receives the fast lane's own errors (a handler's panic). Nil
	// means slog.Default().
	Log *slog.Logger
}

// Server serves one listener on both lanes.
type Server struct {
	opts    Options
	log     *slog.Logger
	std     *http.Server
	handoff *handoffListener

	baseCtx    context.Context // the fast lane's requests' contexts derive from it
	cancelBase context.CancelFunc
	closing    atomic.Bool

	mu    sync.Mutex
	ln    net.Listener
	conns map[*fastConn]struct{}

	fast, handedOff atomic.Uint64
	serving         atomic.Int64 // fast-lane requests in their handlers
	sweepParked     atomic.Bool  // the sweep waits for a request (sweepWake)
	sweepWake       chan struct{}
	held            heldSet // responses their handlers hold (hold.go)
}

// New returns a Server; Serve starts it.
func New(opts *Options) *Server {
	o := *opts
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = 10 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 120 * time.Second
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 64 << 10
	}
	if o.MaxHold <= 0 {
		o.MaxHold = DefaultMaxHold
	}
	if o.NetHTTPOnly {
		o.Fast = nil
	}
	lg := o.Log
	if lg == nil {
		lg = slog.Default()
	}
	s := &Server{
		opts: o,
		log:  lg,
		std: &http.Server{
			Handler:           o.Handler,
			ReadHeaderTimeout: o.ReadHeaderTimeout,
			IdleTimeout:       o.IdleTimeout,
			MaxHeaderBytes:    o.MaxHeaderBytes,
			ErrorLog:          o.ErrorLog,
		},
		conns:     map[*fastConn]struct{}{},
		sweepWake: make(chan struct{}, 1),
	}
	s.held.m = map[*response]struct{}{}
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	return s
}

// Serve accepts connections on ln until Shutdown or Close, which make it
// return http.ErrServerClosed; any other accept error ends it too.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed
	}
	s.ln = ln
	s.handoff = &handoffListener{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
	s.mu.Unlock()
	stdDone := make(chan struct{})
	go func() {
		defer close(stdDone)
		s.std.Serve(s.handoff) //nolint:errcheck // ends with the handoff listener
	}()
	if s.opts.Fast != nil {
		go s.sweep()
	}
	defer func() {
		s.handoff.Close()
		<-stdDone
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) ||
				errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
				// As net/http: a full file table is no reason to stop.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if s.opts.Fast == nil {
			s.handOff(nc, nil)
			continue
		}
		c := &fastConn{s: s, nc: nc, br: readerPool.Get().(*bufio.Reader), remoteAddr: nc.RemoteAddr().String()}
		c.cr.nc = nc
		c.br.Reset(&c.cr)
		if !s.track(c) {
			nc.Close()
			continue
		}
		go c.serve()
	}
}

// minHoldTick bounds the sweep's tick from below however short MaxHold is.
const minHoldTick = 100 * time.Microsecond

// sweep starts the watch of fast-lane requests that have run for
// watchDelay, every half of it, and sends the responses held for MaxHold,
// every half of that while any is held, until the server closes. With no
// request in a handler it sleeps until one starts (wakeSweep).
func (s *Server) sweep() {
	period := watchDelay / 2
	t := time.NewTicker(period)
	defer t.Stop()
	var due []*fastConn
	var held []*response
	var watched time.Time
	for {
		if s.serving.Load() == 0 {
			s.sweepParked.Store(true)
			if s.serving.Load() == 0 { // a request that started meanwhile saw the flag
				select {
				case <-s.sweepWake:
				case <-s.baseCtx.Done():
					return
				}
			}
			s.sweepParked.Store(false)
		}
		want := watchDelay / 2
		if s.held.n.Load() > 0 {
			want = min(want, max(s.opts.MaxHold/2, minHoldTick))
		}
		if want != period {
			period = want
			t.Reset(period)
		}
		select {
		case <-s.baseCtx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		held = s.releaseDue(now.Add(-s.opts.MaxHold).UnixNano(), held)
		if now.Sub(watched) < watchDelay/2-period/2 { // the watch's own half-watchDelay tick
			continue
		}
		watched = now
		before := now.Add(-watchDelay).UnixNano()
		s.mu.Lock()
		for c := range s.conns {
			if since := c.servingSince.Load(); since != 0 && since <= before {
				due = append(due, c)
			}
		}
		s.mu.Unlock()
		for i, c := range due {
			c.maybeWatch()
			due[i] = nil
		}
		due = due[:0]
	}
}

// wakeSweep wakes a sleeping sweep; a request calls it after counting
// itself in serving.
func (s *Server) wakeSweep() {
	if s.sweepParked.Load() && s.sweepParked.CompareAndSwap(true, false) {
		select {
		case s.sweepWake <- struct{}{}:
		default:
		}
	}
}

// Stats returns how many requests the fast lane served and how many
// connections went to net/http.
func (s *Server) Stats() (fast, handedOff uint64) { return s.fast.Load(), s.handedOff.Load() }

func (s *Server) track(c *fastConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) forget(c *fastConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// handOff gives nc, and what br has buffered of it, to net/http.
func (s *Server) handOff(nc net.Conn, br *bufio.Reader) {
	s.handedOff.Add(1)
	var conn net.Conn = nc
	if br != nil && br.Buffered() > 0 {
		conn = &replayConn{Conn: nc, br: br}
	}
	select {
	case s.handoff.conns <- conn:
	case <-s.handoff.done:
		nc.Close()
	}
}

// Shutdown stops accepting, closes idle connections, and waits for the
// requests being served on both lanes to finish, or for ctx to end.
// Hijacked connections are the hijacker's.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeListener()
	stdErr := make(chan error, 1)
	go func() { stdErr <- s.std.Shutdown(ctx) }()
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		if s.closeIdle() == 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	s.cancelBase()
	return <-stdErr
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error {
	s.closeListener()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.cancelBase()
	return s.std.Close()
}

func (s *Server) closeListener() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing.Store(true)
	if s.ln != nil {
		s.ln.Close()
	}
}

// closeIdle closes the fast lane's idle connections and returns how many
// are still serving a request.
func (s *Server) closeIdle() (active int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.active.Load() {
			active++
			continue
		}
		c.nc.Close() // its loop ends and forgets it
	}
	return active
}

// handoffListener is net/http's listener: the connections the fast lane
// hands it.
type handoffListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }
