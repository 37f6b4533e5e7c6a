package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
)

// ErrPoolClosed is returned by Pool.Start after Close.
var ErrPoolClosed = errors.New("upstream pool closed")

// Pool holds the gateway's upstreams by name, in configuration order. It is
// transport-agnostic: it holds Conns and starts and stops those that
// implement Lifecycle.
//
// A Pool is safe for concurrent use; its set of upstreams is fixed at
// NewPool.
type Pool struct {
	log    *slog.Logger
	conns  []Conn
	byName map[string]Conn

	mu sync.Mutex // guards started and closed
	// started and closed record the lifecycle calls made, so that Start and
	// Close each act once.
	started, closed bool
}

// NewPool returns a pool of conns, kept in the given order. Names must be
// non-empty and unique. A nil log discards logs.
func NewPool(conns []Conn, log *slog.Logger) (*Pool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pool{log: log, conns: slices.Clone(conns), byName: make(map[string]Conn, len(conns))}
	for i, c := range conns {
		if c == nil {
			return nil, fmt.Errorf("building pool: upstream %d is nil", i)
		}
		name := c.Name()
		if name == "" {
			return nil, fmt.Errorf("building pool: upstream %d has no name", i)
		}
		if _, dup := p.byName[name]; dup {
			return nil, fmt.Errorf("building pool: duplicate upstream name %q", name)
		}
		p.byName[name] = c
	}
	return p, nil
}

// Start starts every upstream that implements Lifecycle, concurrently, and
// waits until each has made its first attempt or ctx ends. An upstream that
// fails to start does not fail the pool: the failure is logged, the upstream
// keeps retrying with backoff on its own, and its state shows in Statuses.
// Start returns an error only when the pool was closed; a second Start does
// nothing.
func (p *Pool) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrPoolClosed
	}
	if p.started {
		p.mu.Unlock()
		return nil
	}
	p.started = true
	p.mu.Unlock()

	var wg sync.WaitGroup
	for _, c := range p.conns {
		lc, ok := c.(Lifecycle)
		if !ok {
			continue
		}
		wg.Go(func() {
			if err := lc.Start(ctx); err != nil {
				p.log.Warn("upstream start failed; retrying in background", "upstream", c.Name(), "err", err)
			}
		})
	}
	wg.Wait()
	return nil
}

// Get returns the upstream called name.
func (p *Pool) Get(name string) (Conn, bool) {
	c, ok := p.byName[name]
	return c, ok
}

// All returns the upstreams in configuration order. The slice is the
// caller's.
func (p *Pool) All() []Conn { return slices.Clone(p.conns) }

// Len is the number of upstreams.
func (p *Pool) Len() int { return len(p.conns) }

// Statuses reports every upstream's health in configuration order. Conns
// that do not implement StatusReporter report their name and State only.
func (p *Pool) Statuses() []Status {
	out := make([]Status, len(p.conns))
	for i, c := range p.conns {
		if sr, ok := c.(StatusReporter); ok {
			out[i] = sr.Status()
			continue
		}
		out[i] = Status{Name: c.Name(), State: c.State()}
	}
	return out
}

// Close stops every upstream that implements Lifecycle, concurrently, and
// waits for them, bounded by ctx. It returns the failures joined. Close may
// be called without Start; a second Close does nothing.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()

	errs := make([]error, len(p.conns))
	var wg sync.WaitGroup
	for i, c := range p.conns {
		lc, ok := c.(Lifecycle)
		if !ok {
			continue
		}
		wg.Go(func() {
			if err := lc.Close(ctx); err != nil {
				errs[i] = fmt.Errorf("closing upstream %q: %w", c.Name(), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
