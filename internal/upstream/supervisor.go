package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

var (
	// ErrStarted is returned by a second Supervisor.Start.
	ErrStarted = errors.New("upstream already started")
	// ErrClosed is returned by Supervisor.Start after Close.
	ErrClosed = errors.New("upstream closed")
)

// SupervisorOptions configure a Supervisor. Zero durations must have been
// replaced by the transport's defaults.
type SupervisorOptions struct {
	// Name is the upstream's configured name, for errors.
	Name string
	// BackoffMin and BackoffMax bound the wait before a restart (Backoff).
	BackoffMin, BackoffMax time.Duration
	// StableAfter is how long an attempt must have been ready for the
	// backoff (and the MaxRestarts count) to start over.
	StableAfter time.Duration
	// MaxRestarts is how many consecutive failures are retried before the
	// upstream is stopped for good; zero means unlimited.
	MaxRestarts int
	// RunOnce runs one attempt (a process, a remote session) from start to
	// end: it calls onReady once it serves (which sets StateReady), and
	// returns how long it was
	// ready and why it ended (nil when ctx ended it). It runs on the
	// supervisor goroutine.
	RunOnce func(ctx context.Context, onReady func()) (readyFor time.Duration, err error)
	// Renew, if set, says that an attempt's end calls for the next at
	// once, without backoff (a remote session the server forgot).
	Renew func(err error, readyFor time.Duration) bool
	// Logger receives the restart logs; nil discards them.
	Logger *slog.Logger
}

// Supervisor is the lifecycle shared by supervised upstream connections:
// Start and Close, the state and its waiters, and the one goroutine that
// runs attempts and restarts them with backoff.
//
//	stopped ─Start─▶ starting ─ready─▶ ready ─ended─▶ restarting ─backoff─▶ starting …
//	any state ─Close, or MaxRestarts exceeded─▶ stopped
type Supervisor struct {
	opts   SupervisorOptions
	log    *slog.Logger
	jitter func(n int64) int64
	done   chan struct{} // closed when the supervisor goroutine has returned

	mu sync.Mutex // guards the fields below, and whatever Locked callers guard with it
	// state is the current health; changed is closed and replaced at
	// every change of it.
	state   State
	changed chan struct{}
	// restarts counts restarts since Start; lastErr is the sanitised text
	// of the latest failure.
	restarts int
	lastErr  string
	// started and closed record the lifecycle calls; cancel stops the
	// supervisor goroutine (nil until Start).
	started, closed bool
	cancel          context.CancelFunc
}

// NewSupervisor returns a stopped supervisor.
func NewSupervisor(opts SupervisorOptions) *Supervisor {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{opts: opts, log: log, jitter: rand.Int64N, done: make(chan struct{}),
		state: StateStopped, changed: make(chan struct{})}
}

// Start starts the supervisor goroutine and waits, bounded by ctx, for the
// first attempt to become ready or fail. It returns that first failure (or
// ctx.Err()), but the attempts go on with backoff until Close either way.
func (s *Supervisor) Start(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.started:
		s.mu.Unlock()
		return ErrStarted
	}
	s.started = true
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.mu.Unlock()

	first := make(chan error, 1)
	go s.run(runCtx, first)
	select {
	case err := <-first:
		if err != nil {
			return fmt.Errorf("starting upstream %q: %w", s.opts.Name, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("starting upstream %q: %w", s.opts.Name, ctx.Err())
	}
}

// Close stops the supervisor for good and waits, bounded by ctx, for its
// goroutine (and so the current attempt) to end. It may be called more
// than once.
func (s *Supervisor) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	cancel := s.cancel
	s.mu.Unlock()
	if cancel == nil {
		return nil // never started
	}
	cancel()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stopping upstream %q: %w", s.opts.Name, ctx.Err())
	}
}

// Lock and Unlock hold the supervisor's mutex, so that a Conn can change
// its own state together with the supervisor's (SetStateLocked).
func (s *Supervisor) Lock()   { s.mu.Lock() }
func (s *Supervisor) Unlock() { s.mu.Unlock() }

// State is the current health.
func (s *Supervisor) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Counts returns the restarts since Start and the last failure's text.
func (s *Supervisor) Counts() (restarts int, lastErr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts, s.lastErr
}

// Watch returns the current state and a channel that is closed at its
// next change, for waiting on a state without polling.
func (s *Supervisor) Watch() (State, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.changed
}

// SetStateLocked records a state change and wakes its waiters; the
// caller holds the lock.
func (s *Supervisor) SetStateLocked(st State) {
	if s.state == st {
		return
	}
	s.state = st
	close(s.changed)
	s.changed = make(chan struct{})
}

// SetState records a state change.
func (s *Supervisor) SetState(st State) {
	s.mu.Lock()
	s.SetStateLocked(st)
	s.mu.Unlock()
}

// WaitReady returns once ready() holds, checking at every state change and
// waiting up to wait (zero: not at all). Otherwise it returns an error
// wrapping ErrUnavailable that names the state, or ctx.Err(). ready runs
// with the lock held.
func (s *Supervisor) WaitReady(ctx context.Context, wait time.Duration, ready func() bool) error {
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		s.mu.Lock()
		ok, state, changed := ready(), s.state, s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		if timeout == nil || state == StateStopped {
			if state == StateReady { // ended, not yet noticed
				state = StateRestarting
			}
			return fmt.Errorf("upstream %q is %s: %w", s.opts.Name, state, ErrUnavailable)
		}
		select {
		case <-changed:
		case <-timeout:
			timeout = nil // report the state as it is now
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// run is the supervisor goroutine. The outcome of the first attempt goes
// to first.
func (s *Supervisor) run(ctx context.Context, first chan<- error) {
	defer close(s.done)
	report := func(err error) {
		if first != nil {
			first <- err
			first = nil
		}
	}
	failures := 0 // consecutive, reset by a stable attempt
	for {
		s.SetState(StateStarting)
		readyFor, err := s.opts.RunOnce(ctx, func() {
			s.SetState(StateReady) // a Conn may have set it already, with its own state
			report(nil)
		})
		if ctx.Err() != nil {
			report(ErrClosed)
			s.SetState(StateStopped)
			s.log.Info("upstream stopped")
			return
		}
		if err == nil { // not expected: every other way out has a cause
			err = errors.New("upstream ended")
		}
		report(err)
		if readyFor >= s.opts.StableAfter {
			failures = 0
		}
		s.mu.Lock()
		s.lastErr = ErrorText(err.Error())
		s.restarts++
		s.mu.Unlock()
		if s.opts.Renew != nil && s.opts.Renew(err, readyFor) {
			s.log.Info("upstream renewed at once", "err", err)
			continue
		}
		failures++
		if s.opts.MaxRestarts > 0 && failures > s.opts.MaxRestarts {
			s.log.Error("upstream failed too often; giving up", "failures", failures, "err", err)
			s.SetState(StateStopped)
			return
		}
		delay := Backoff(failures, s.opts.BackoffMin, s.opts.BackoffMax, s.jitter)
		s.log.Warn("upstream restart", "attempt", failures, "delay", delay, "err", err)
		s.SetState(StateRestarting)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			s.SetState(StateStopped)
			s.log.Info("upstream stopped")
			return
		}
	}
}
