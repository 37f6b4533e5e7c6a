// Package peruser runs one upstream connection per user, for upstreams that
// must not be shared between users: each user's connection (a stdio
// process, typically) is built with that user's credential only, is pooled
// across that user's sessions, and is reaped when idle.
//
// It owns the per-user lifecycle and its limits. It does not know how a
// credential reaches the process (the Factory does) nor which user a request
// belongs to (the relay asks with a user key).
package peruser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Conn is a per-user upstream connection: an upstream.Conn with a lifecycle.
type Conn interface {
	upstream.Conn
	upstream.Lifecycle
}

// Factory builds, without starting it, the connection for the user with key
// userKey. It is where the user's credential is injected (an environment
// variable of the process, a header of a remote connection); ctx is the
// context of the request that needs the connection, which carries the
// user's principal and, in passthrough mode, their credential.
type Factory func(ctx context.Context, userKey string) (Conn, error)

// Defaults for Options.
const (
	DefaultMaxConns     = 100
	DefaultIdleTimeout  = 10 * time.Minute
	DefaultStartTimeout = 30 * time.Second
)

// ErrLimit is returned by Acquire when MaxConns connections are running: a
// full pool refuses new users (HTTP 503 with Retry-After upstream of it) and
// never stops a live user's connection to make room.
var ErrLimit = errors.New("per-user upstream limit reached")

// ErrClosed is returned by Acquire after Close.
var ErrClosed = errors.New("per-user upstream pool closed")

// Options configure a Pool.
type Options struct {
	// Name is the upstream's configured name, for logs.
	Name string
	// MaxConns bounds the connections running at once, across users. Zero
	// means DefaultMaxConns.
	MaxConns int
	// IdleTimeout stops a user's connection after it has had no call in
	// use for this long. Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// StartTimeout bounds the start of a user's connection. Zero means
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// Logger receives lifecycle logs (never the user key in clear). Nil
	// discards.
	Logger *slog.Logger
}

// Pool holds one connection per user.
type Pool struct {
	opts    Options
	factory Factory
	log     *slog.Logger

	mu      sync.Mutex // guards entries, retired and closed
	entries map[string]*entry
	retired map[*entry]struct{} // taken out by Retire, stopped once idle (retire.go)
	closed  bool

	stop chan struct{}
	done chan struct{}
}

type entry struct {
	conn  Conn
	ready chan struct{} // closed when the first start attempt has ended
	err   error         // the start error, set before ready closes

	// inUse and lastUsed are guarded by Pool.mu.
	inUse    int
	lastUsed time.Time
}

// New returns a pool and starts its reaper; Close stops both.
func New(factory Factory, opts Options) *Pool {
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pool{opts: opts, factory: factory, log: log, entries: map[string]*entry{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.reap()
	return p
}

// Acquire returns the user's connection, starting it if need be, and a
// release function the caller must call when its call is over. A user's
// connection is never reaped while acquired.
func (p *Pool) Acquire(ctx context.Context, userKey string) (Conn, func(), error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, nil, ErrClosed
	}
	e := p.entries[userKey]
	if e == nil {
		if len(p.entries) >= p.opts.MaxConns {
			p.mu.Unlock()
			return nil, nil, fmt.Errorf("starting upstream %q for a new user: %w", p.opts.Name, ErrLimit)
		}
		conn, err := p.factory(ctx, userKey)
		if err != nil {
			p.mu.Unlock()
			return nil, nil, fmt.Errorf("building upstream %q for a user: %w", p.opts.Name, err)
		}
		e = &entry{conn: conn, ready: make(chan struct{})}
		p.entries[userKey] = e
		go p.start(e)
	}
	e.inUse++
	p.mu.Unlock()

	release := sync.OnceFunc(func() {
		p.mu.Lock()
		e.inUse--
		e.lastUsed = time.Now()
		_, retired := p.retired[e]
		stop := retired && e.inUse == 0
		if stop {
			delete(p.retired, e)
		}
		p.mu.Unlock()
		if stop {
			p.stopRetired(e) // retire.go
		}
	})
	select {
	case <-e.ready:
	case <-ctx.Done():
		release()
		return nil, nil, ctx.Err()
	}
	// A failed first start is not fatal: the connection keeps retrying with
	// backoff, and its calls fail with upstream.ErrUnavailable meanwhile.
	return e.conn, release, nil
}

func (p *Pool) start(e *entry) {
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.StartTimeout)
	defer cancel()
	e.err = e.conn.Start(ctx)
	if e.err != nil {
		p.log.Warn("per-user upstream start failed; retrying in background", "upstream", p.opts.Name, "err", e.err)
	}
	close(e.ready)
}

// Len reports how many users have a connection.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// Each calls f for every user's connection (for health and broadcasts). f
// must not call back into the pool.
func (p *Pool) Each(f func(userKey string, c Conn)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.entries {
		f(k, e.conn)
	}
}

func (p *Pool) reap() {
	defer close(p.done)
	t := time.NewTicker(max(p.opts.IdleTimeout/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.reapIdle(time.Now())
		}
	}
}

// reapIdle stops every connection idle since before now-IdleTimeout.
func (p *Pool) reapIdle(now time.Time) {
	var idle []*entry
	p.mu.Lock()
	for k, e := range p.entries {
		select {
		case <-e.ready:
		default:
			continue // still starting
		}
		if e.inUse == 0 && now.Sub(e.lastUsed) >= p.opts.IdleTimeout {
			idle = append(idle, e)
			delete(p.entries, k)
		}
	}
	for e := range p.retired {
		if e.inUse == 0 {
			idle = append(idle, e)
			delete(p.retired, e)
		}
	}
	p.mu.Unlock()
	for _, e := range idle {
		p.log.Info("per-user upstream idle; stopping", "upstream", p.opts.Name)
		ctx, cancel := context.WithTimeout(context.Background(), p.opts.StartTimeout)
		if err := e.conn.Close(ctx); err != nil {
			p.log.Warn("stopping idle per-user upstream", "upstream", p.opts.Name, "err", err)
		}
		cancel()
	}
}

// Close stops every user's connection and the reaper, bounded by ctx.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	entries := make([]*entry, 0, len(p.entries)+len(p.retired))
	for _, e := range p.entries {
		entries = append(entries, e)
	}
	for e := range p.retired {
		entries = append(entries, e)
	}
	p.entries = map[string]*entry{}
	p.retired = nil
	p.mu.Unlock()
	close(p.stop)
	<-p.done
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, e := range entries {
		wg.Go(func() {
			<-e.ready
			if err := e.conn.Close(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
