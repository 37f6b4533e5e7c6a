package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config.
const (
	DefaultMaxSessions = 10000
	DefaultIdleTimeout = 30 * time.Minute
)

// ExpireReason says why a session ended without a client DELETE.
type ExpireReason string

// ReasonIdle: the session was not used for IdleTimeout.
const ReasonIdle ExpireReason = "idle"

// Config configures a Manager. The zero value of each field selects its
// default.
type Config struct {
	// MaxSessions is the most sessions the gateway holds. When it is
	// reached, Create fails with ErrLimit; live sessions are never evicted
	// to make room. Zero means DefaultMaxSessions.
	MaxSessions int
	// MaxSessionsPerPrincipal is the most sessions one principal
	// (Principal.Key) may hold. When it is reached, Create fails with
	// ErrPrincipalLimit. It needs a Store that implements
	// PrincipalLimiter (MemoryStore does); with another store it is not
	// enforced, and NewManager logs a warning. Zero means no per-principal
	// limit.
	MaxSessionsPerPrincipal int
	// IdleTimeout ends a session not used (Touch) for this long. Zero means
	// DefaultIdleTimeout; negative disables idle expiry.
	IdleTimeout time.Duration
	// SweepInterval is how often the sweeper looks for idle sessions. Zero
	// means IdleTimeout/10, kept between one second and one minute.
	SweepInterval time.Duration
	// OnExpire, if set, is called once for every session that expires,
	// after it has been removed from the store, so that transports can
	// close its streams and the relay can forget the client. It is called
	// from the sweeper goroutine, or from a Get that found the session
	// expired; it must not block for long.
	OnExpire func(s *Session, reason ExpireReason)
	// Logger receives expiry and sweep errors. Nil discards them.
	Logger *slog.Logger
}

// Manager creates, finds and expires sessions on top of a Store. It owns a
// sweeper goroutine, stopped by Close.
type Manager struct {
	store Store
	cfg   Config
	log   *slog.Logger

	stop     context.CancelFunc
	done     chan struct{} // closed when the sweeper has returned
	stopOnce sync.Once

	limiter                         PrincipalLimiter // store, when it can bound principals; else nil
	refusedGlobal, refusedPrincipal atomic.Uint64    // Creates refused by each limit
}

// NewManager returns a Manager over store and starts its sweeper (unless
// idle expiry is disabled). Call Close to stop it.
func NewManager(store Store, cfg Config) *Manager {
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = min(max(cfg.IdleTimeout/10, time.Second), time.Minute)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{store: store, cfg: cfg, log: log, stop: cancel, done: make(chan struct{})}
	if cfg.MaxSessionsPerPrincipal > 0 {
		if pl, ok := store.(PrincipalLimiter); ok {
			m.limiter = pl
		} else {
			log.Warn("session store cannot bound sessions per principal; the limit is not enforced",
				"max_sessions_per_principal", cfg.MaxSessionsPerPrincipal)
		}
	}
	if cfg.IdleTimeout > 0 {
		go m.sweep(ctx)
	} else {
		close(m.done)
	}
	return m
}

// Close stops the sweeper and waits for it. It does not touch the sessions.
func (m *Manager) Close() {
	m.stopOnce.Do(m.stop)
	<-m.done
}

// IdleTimeout returns the configured idle timeout (negative: none).
func (m *Manager) IdleTimeout() time.Duration { return m.cfg.IdleTimeout }

// Create stores a new session built from tmpl, with a fresh ID and both
// timestamps set to now. It returns ErrLimit when MaxSessions is reached,
// and ErrPrincipalLimit (which is also ErrLimit) when tmpl.Principal holds
// MaxSessionsPerPrincipal sessions. Live sessions are never evicted.
func (m *Manager) Create(ctx context.Context, tmpl Session) (*Session, error) {
	now := time.Now()
	s := tmpl
	s.CreatedAt, s.LastActive = now, now
	for range 3 { // an ID collision needs 192 random bits to repeat
		s.ID = NewID()
		var err error
		if m.limiter != nil {
			err = m.limiter.CreateLimited(ctx, &s, m.cfg.MaxSessions, m.cfg.MaxSessionsPerPrincipal)
		} else {
			err = m.store.Create(ctx, &s, m.cfg.MaxSessions)
		}
		if errors.Is(err, ErrExists) {
			continue
		}
		switch {
		case errors.Is(err, ErrPrincipalLimit):
			m.refusedPrincipal.Add(1)
		case errors.Is(err, ErrLimit):
			m.refusedGlobal.Add(1)
		}
		if err != nil {
			return nil, fmt.Errorf("creating session: %w", err)
		}
		return &s, nil
	}
	return nil, fmt.Errorf("creating session: %w", ErrExists)
}

// Get returns the session. It returns ErrNotFound for an invalid ID, an
// unknown or deleted session, and a session idle for longer than
// IdleTimeout, which it expires on the spot (OnExpire is called) rather than
// wait for the sweeper.
func (m *Manager) Get(ctx context.Context, id string) (*Session, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	s, err := m.store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("getting session: %w", err)
	}
	if m.cfg.IdleTimeout > 0 && time.Since(s.LastActive) > m.cfg.IdleTimeout {
		// Only the caller whose Delete succeeds reports the expiry.
		if err := m.store.Delete(ctx, id); err == nil {
			m.expired(s, ReasonIdle)
		}
		return nil, ErrNotFound
	}
	return s, nil
}

// Touch marks the session active now.
func (m *Manager) Touch(ctx context.Context, id string) error {
	if err := m.store.Touch(ctx, id, time.Now()); err != nil {
		return fmt.Errorf("touching session: %w", err)
	}
	return nil
}

// touchGranularity is the most a session's LastActive may lag behind its
// last use with MarkUsed: a sixty-fourth of the idle timeout, at most one
// second, so that an idle expiry cannot tell the difference.
func (m *Manager) touchGranularity() time.Duration {
	if m.cfg.IdleTimeout <= 0 {
		return time.Second
	}
	return min(m.cfg.IdleTimeout/64, time.Second)
}

// MarkUsed marks s, as just returned by Get, active now, unless its
// LastActive is already that recent within a small granularity (see
// touchGranularity): a busy session writes its store at most about once a
// second instead of on every request.
func (m *Manager) MarkUsed(ctx context.Context, s *Session) error {
	if time.Since(s.LastActive) < m.touchGranularity() {
		return nil
	}
	return m.Touch(ctx, s.ID)
}

// Delete removes the session (a client DELETE, or shutdown of its owner).
// OnExpire is not called: the caller ends the session itself.
func (m *Manager) Delete(ctx context.Context, id string) error {
	if err := m.store.Delete(ctx, id); err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

// LimitRefusals returns how many Creates were refused because the gateway
// held MaxSessions sessions (global) or the principal held
// MaxSessionsPerPrincipal (perPrincipal), since the Manager was made.
func (m *Manager) LimitRefusals() (global, perPrincipal uint64) {
	return m.refusedGlobal.Load(), m.refusedPrincipal.Load()
}

// Count returns the number of sessions.
func (m *Manager) Count(ctx context.Context) (int, error) {
	n, err := m.store.Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("counting sessions: %w", err)
	}
	return n, nil
}

// sweepBatch is how many sessions one Store.Expire call removes.
const sweepBatch = 256

// Sweep expires every session idle for longer than IdleTimeout and returns
// how many it expired. The sweeper calls it every SweepInterval.
func (m *Manager) Sweep(ctx context.Context) (int, error) {
	if m.cfg.IdleTimeout <= 0 {
		return 0, nil
	}
	n := 0
	for {
		batch, err := m.store.Expire(ctx, time.Now().Add(-m.cfg.IdleTimeout), sweepBatch)
		if err != nil {
			return n, fmt.Errorf("expiring sessions: %w", err)
		}
		for _, s := range batch {
			m.expired(s, ReasonIdle)
		}
		n += len(batch)
		if len(batch) < sweepBatch {
			return n, nil
		}
	}
}

func (m *Manager) expired(s *Session, reason ExpireReason) {
	m.log.Info("session expired", "session", Short(s.ID), "reason", string(reason),
		"transport", s.Transport, "principal", s.Principal.Name,
		"idle", time.Since(s.LastActive).Round(time.Second))
	if m.cfg.OnExpire != nil {
		m.cfg.OnExpire(s, reason)
	}
}

func (m *Manager) sweep(ctx context.Context) {
	defer close(m.done)
	t := time.NewTicker(m.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := m.Sweep(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("session sweep failed", "err", err)
			}
		}
	}
}
