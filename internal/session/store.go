package session

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Store keeps session records. Implementations must be safe for concurrent
// use and, for shared backends, across replicas. They translate their
// backend's errors: callers see only ErrNotFound, ErrLimit, ErrExists or a
// wrapped backend failure.
type Store interface {
	// Create stores s. It returns ErrExists if s.ID is taken and ErrLimit if
	// the store already holds max sessions (max <= 0: no limit); the check
	// and the insert are atomic.
	Create(ctx context.Context, s *Session, max int) error
	// Get returns a copy of the session, or ErrNotFound.
	Get(ctx context.Context, id string) (*Session, error)
	// Touch sets the session's LastActive to at, or returns ErrNotFound.
	Touch(ctx context.Context, id string, at time.Time) error
	// Delete removes the session, or returns ErrNotFound if it is not
	// there. Exactly one of several concurrent Deletes succeeds.
	Delete(ctx context.Context, id string) error
	// Count returns the number of sessions.
	Count(ctx context.Context) (int, error)
	// Expire removes up to max sessions (max <= 0: all) whose LastActive is
	// before idleSince, and returns them. A session is returned by exactly
	// one call, so with a shared store one replica handles each expiry.
	Expire(ctx context.Context, idleSince time.Time, max int) ([]*Session, error)
}

// PrincipalLimiter is implemented by a Store that can also bound the
// sessions of each principal. Manager uses it when
// Config.MaxSessionsPerPrincipal is set.
type PrincipalLimiter interface {
	// CreateLimited is Create that also returns ErrPrincipalLimit when the
	// store already holds maxPerPrincipal sessions whose Principal.Key()
	// is s's (maxPerPrincipal <= 0: no such limit). Both checks and the
	// insert are atomic.
	CreateLimited(ctx context.Context, s *Session, max, maxPerPrincipal int) error
}

// MemoryStore is a Store in this process's memory.
type MemoryStore struct {
	mu       sync.RWMutex // guards the sessions and owned maps; entries' lastActive is atomic
	sessions map[string]*memEntry
	owned    map[string]int // sessions per Principal.Key()
}

type memEntry struct {
	s          Session // immutable once stored, except LastActive (use lastActive)
	lastActive atomic.Int64
}

var (
	_ Store            = (*MemoryStore)(nil)
	_ PrincipalLimiter = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{sessions: make(map[string]*memEntry), owned: make(map[string]int)}
}

func (e *memEntry) copy() *Session {
	s := e.s
	s.LastActive = time.Unix(0, e.lastActive.Load())
	return &s
}

// Create implements Store.
func (m *MemoryStore) Create(ctx context.Context, s *Session, max int) error {
	return m.CreateLimited(ctx, s, max, 0)
}

// CreateLimited implements PrincipalLimiter.
func (m *MemoryStore) CreateLimited(_ context.Context, s *Session, max, maxPerPrincipal int) error {
	key := s.Principal.Key()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[s.ID]; ok {
		return ErrExists
	}
	if max > 0 && len(m.sessions) >= max {
		return ErrLimit
	}
	if maxPerPrincipal > 0 && m.owned[key] >= maxPerPrincipal {
		return ErrPrincipalLimit
	}
	e := &memEntry{s: *s}
	e.lastActive.Store(s.LastActive.UnixNano())
	m.sessions[s.ID] = e
	m.owned[key]++
	return nil
}

// removeLocked deletes e, stored under id. m.mu is held.
func (m *MemoryStore) removeLocked(id string, e *memEntry) {
	delete(m.sessions, id)
	key := e.s.Principal.Key()
	if m.owned[key] <= 1 {
		delete(m.owned, key)
	} else {
		m.owned[key]--
	}
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, id string) (*Session, error) {
	m.mu.RLock()
	e := m.sessions[id]
	m.mu.RUnlock()
	if e == nil {
		return nil, ErrNotFound
	}
	return e.copy(), nil
}

// Touch implements Store.
func (m *MemoryStore) Touch(_ context.Context, id string, at time.Time) error {
	m.mu.RLock()
	e := m.sessions[id]
	m.mu.RUnlock()
	if e == nil {
		return ErrNotFound
	}
	e.lastActive.Store(at.UnixNano())
	return nil
}

// Delete implements Store.
func (m *MemoryStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.sessions[id]
	if !ok {
		return ErrNotFound
	}
	m.removeLocked(id, e)
	return nil
}

// Count implements Store.
func (m *MemoryStore) Count(context.Context) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.sessions), nil
}

// Expire implements Store.
func (m *MemoryStore) Expire(_ context.Context, idleSince time.Time, max int) ([]*Session, error) {
	cutoff := idleSince.UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Session
	for id, e := range m.sessions {
		if max > 0 && len(out) >= max {
			break
		}
		if e.lastActive.Load() < cutoff {
			out = append(out, e.copy())
			m.removeLocked(id, e)
		}
	}
	return out, nil
}
