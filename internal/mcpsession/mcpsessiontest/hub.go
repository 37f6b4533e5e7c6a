package mcpsessiontest

import (
	"context"
	"testing"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/session"
)

// NewHub returns a hub over a FakeCore with in-memory stores, for
// benchmarks and tests that need nothing more; tb's cleanup shuts it down.
func NewHub(tb testing.TB, opts *mcpsession.Options) (*mcpsession.Hub, *FakeCore) {
	tb.Helper()
	core := NewFakeCore()
	mgr := session.NewManager(session.NewMemoryStore(), session.Config{})
	hub := mcpsession.New(core, mgr, eventlog.NewMemory(eventlog.Limits{}), opts)
	tb.Cleanup(mgr.Close)
	tb.Cleanup(func() { _ = hub.Shutdown(context.Background()) })
	return hub, core
}
