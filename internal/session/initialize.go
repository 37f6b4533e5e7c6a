package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrInitialized: Initialize was called for a session that already has a
// negotiated protocol version.
var ErrInitialized = errors.New("session already initialized")

// Initializer is implemented by a Store that can complete a session opened
// before its initialize request. The 2024-11-05 HTTP+SSE transport opens
// the session when the client connects to GET /sse (its ID goes in the
// endpoint event) and learns the protocol version only from the initialize
// POSTed afterwards. Such a record has an empty ProtocolVersion until then.
type Initializer interface {
	// Initialize records what initialize negotiated: version, and the
	// client's raw capabilities and clientInfo. It returns ErrNotFound, or
	// ErrInitialized when the session already has a ProtocolVersion; the
	// check and the update are atomic, so one of two concurrent initializes
	// wins.
	Initialize(ctx context.Context, id, version string, capabilities, clientInfo json.RawMessage) error
}

var _ Initializer = (*MemoryStore)(nil)

// errCannotInitialize: the store has no Initialize method.
var errCannotInitialize = errors.New("session store cannot initialize an opened session")

// Initialize completes a session opened without a protocol version (see
// Initializer). It returns ErrNotFound or ErrInitialized, and fails if the
// store does not implement Initializer.
func (m *Manager) Initialize(ctx context.Context, id, version string, capabilities, clientInfo json.RawMessage) error {
	in, ok := m.store.(Initializer)
	if !ok {
		return fmt.Errorf("initializing session: %w", errCannotInitialize)
	}
	if err := in.Initialize(ctx, id, version, capabilities, clientInfo); err != nil {
		return fmt.Errorf("initializing session: %w", err)
	}
	return nil
}

// Initialize implements Initializer. Entries are immutable once stored, so
// it replaces the entry with a completed copy.
func (m *MemoryStore) Initialize(_ context.Context, id, version string, capabilities, clientInfo json.RawMessage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.sessions[id]
	switch {
	case e == nil:
		return ErrNotFound
	case e.s.ProtocolVersion != "":
		return ErrInitialized
	}
	ne := &memEntry{s: e.s}
	ne.s.ProtocolVersion = version
	ne.s.Capabilities = capabilities
	ne.s.ClientInfo = clientInfo
	ne.lastActive.Store(e.lastActive.Load())
	m.sessions[id] = ne
	return nil
}
