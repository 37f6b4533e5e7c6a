package authserver

import (
	"context"
	"slices"
)

var _ AdminStore = (*MemoryStore)(nil)

// Clients implements AdminStore.
func (m *MemoryStore) Clients(_ context.Context) ([]Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Client, 0, len(m.clients))
	for _, c := range m.clients {
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		out = append(out, c)
	}
	return out, nil
}

// DeleteClient implements AdminStore.
func (m *MemoryStore) DeleteClient(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.clients, id)
	return nil
}

// Grants implements AdminStore.
func (m *MemoryStore) Grants(_ context.Context) ([]Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Grant, 0, len(m.grants))
	for _, g := range m.grants {
		out = append(out, cloneGrant(g))
	}
	return out, nil
}
