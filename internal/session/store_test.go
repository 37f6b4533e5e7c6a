package session_test

import (
	"testing"

	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/session/sessiontest"
)

func TestMemoryStore(t *testing.T) {
	sessiontest.Run(t, func(*testing.T) session.Store { return session.NewMemoryStore() })
}
