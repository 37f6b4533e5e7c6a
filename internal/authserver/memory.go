package authserver

import (
	"context"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a Store in process memory: state is lost on restart and
// not shared between replicas. The zero value is not usable; use
// NewMemoryStore.
type MemoryStore struct {
	mu      sync.Mutex // guards every map below
	clients map[string]Client
	auths   map[string]Authorization
	codes   map[string]Code
	grants  map[string]Grant
	tokens  map[string]Token
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		clients: map[string]Client{},
		auths:   map[string]Authorization{},
		codes:   map[string]Code{},
		grants:  map[string]Grant{},
		tokens:  map[string]Token{},
	}
}

// Records are copied in and out so callers never share slices with the
// store.

// PutClient implements Store.
func (m *MemoryStore) PutClient(_ context.Context, c Client) error {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clients[c.ID] = c
	return nil
}

// Client implements Store.
func (m *MemoryStore) Client(_ context.Context, id string) (Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.clients[id]
	if !ok {
		return Client{}, ErrNotFound
	}
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	return c, nil
}

// PutAuthorization implements Store.
func (m *MemoryStore) PutAuthorization(_ context.Context, key string, a Authorization) error {
	a.Scopes = slices.Clone(a.Scopes)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.auths[key] = a
	return nil
}

// TakeAuthorization implements Store.
func (m *MemoryStore) TakeAuthorization(_ context.Context, key string) (Authorization, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.auths[key]
	if !ok {
		return Authorization{}, ErrNotFound
	}
	delete(m.auths, key)
	return a, nil
}

// PutCode implements Store.
func (m *MemoryStore) PutCode(_ context.Context, key string, c Code) error {
	c.Scopes = slices.Clone(c.Scopes)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.codes[key] = c
	return nil
}

// SpendCode implements Store.
func (m *MemoryStore) SpendCode(_ context.Context, key string) (Code, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.codes[key]
	if !ok {
		return Code{}, ErrNotFound
	}
	out := c
	out.Scopes = slices.Clone(c.Scopes)
	if c.Spent {
		return out, ErrSpent
	}
	c.Spent = true
	m.codes[key] = c
	return out, nil
}

// PutGrant implements Store.
func (m *MemoryStore) PutGrant(_ context.Context, g Grant) error {
	g = cloneGrant(g)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.grants[g.ID] = g
	return nil
}

// Grant implements Store.
func (m *MemoryStore) Grant(_ context.Context, id string) (Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.grants[id]
	if !ok {
		return Grant{}, ErrNotFound
	}
	return cloneGrant(g), nil
}

// DeleteGrant implements Store.
func (m *MemoryStore) DeleteGrant(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.grants, id)
	return nil
}

// PutToken implements Store.
func (m *MemoryStore) PutToken(_ context.Context, key string, t Token) error {
	t.Scopes = slices.Clone(t.Scopes)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[key] = t
	return nil
}

// Token implements Store.
func (m *MemoryStore) Token(_ context.Context, key string) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[key]
	if !ok {
		return Token{}, ErrNotFound
	}
	t.Scopes = slices.Clone(t.Scopes)
	return t, nil
}

// SpendToken implements Store.
func (m *MemoryStore) SpendToken(_ context.Context, key string) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[key]
	if !ok {
		return Token{}, ErrNotFound
	}
	out := t
	out.Scopes = slices.Clone(t.Scopes)
	if t.Spent {
		return out, ErrSpent
	}
	t.Spent = true
	m.tokens[key] = t
	return out, nil
}

// DeleteToken implements Store.
func (m *MemoryStore) DeleteToken(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, key)
	return nil
}

// Sweep implements Store.
func (m *MemoryStore) Sweep(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := sweepMap(m.auths, now, func(a Authorization) time.Time { return a.ExpiresAt })
	n += sweepMap(m.codes, now, func(c Code) time.Time { return c.ExpiresAt })
	n += sweepMap(m.grants, now, func(g Grant) time.Time { return g.ExpiresAt })
	n += sweepMap(m.tokens, now, func(t Token) time.Time { return t.ExpiresAt })
	return n, nil
}

func sweepMap[V any](m map[string]V, now time.Time, exp func(V) time.Time) int {
	n := 0
	for k, v := range m {
		if exp(v).Before(now) {
			delete(m, k)
			n++
		}
	}
	return n
}

func cloneGrant(g Grant) Grant {
	g.Scopes = slices.Clone(g.Scopes)
	g.Upstream = slices.Clone(g.Upstream)
	g.Identity.Groups = slices.Clone(g.Identity.Groups)
	return g
}
