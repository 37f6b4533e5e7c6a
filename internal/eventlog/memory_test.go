package eventlog_test

import (
	"testing"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/eventlog/eventlogtest"
)

func TestMemory(t *testing.T) {
	eventlogtest.Run(t, func(t *testing.T, l eventlog.Limits) eventlog.Log {
		return eventlog.NewMemory(l)
	})
}

func TestMemoryDeleteSessionFreesSession(t *testing.T) {
	m := eventlog.NewMemory(eventlog.Limits{})
	ctx := t.Context()
	if err := m.Create(ctx, "s", "a"); err != nil {
		t.Fatal(err)
	}
	if got := m.Sessions(); got != 1 {
		t.Fatalf("Sessions: got %d, want 1", got)
	}
	if err := m.DeleteSession(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if got := m.Sessions(); got != 0 {
		t.Errorf("Sessions after DeleteSession: got %d, want 0", got)
	}
}

func TestMemoryDeleteLastStreamFreesSession(t *testing.T) {
	m := eventlog.NewMemory(eventlog.Limits{})
	ctx := t.Context()
	for _, st := range []string{"a", "b"} {
		if err := m.Create(ctx, "s", st); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []string{"a", "b"} {
		if err := m.Delete(ctx, "s", st); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Sessions(); got != 0 {
		t.Errorf("Sessions after deleting every stream: got %d, want 0", got)
	}
	if err := m.Create(ctx, "s", "c"); err != nil {
		t.Errorf("Create after the session was forgotten: %v", err)
	}
}
