package eventlog_test

import (
	"errors"
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

// wakes counts Wake calls.
type wakes struct{ n int }

func (w *wakes) Wake() { w.n++ }

// TestMemoryNotify: a Waker is told once of the next change, at once when
// there is news already, never after Unnotify, and when the stream goes.
func TestMemoryNotify(t *testing.T) {
	ctx := t.Context()
	m := eventlog.NewMemory(eventlog.Limits{})
	if err := m.Create(ctx, "s", "a"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		do    func(w *wakes) error
		wantN int
	}{
		{"nothing after 0: waits", func(w *wakes) error { return m.Notify("s", "a", 0, w) }, 0},
		{"an append wakes", func(w *wakes) error { _, err := m.Append(ctx, "s", "a", []byte("1")); return err }, 1},
		{"a second append: told once only", func(w *wakes) error { _, err := m.Append(ctx, "s", "a", []byte("2")); return err }, 1},
		{"news already there: at once", func(w *wakes) error { return m.Notify("s", "a", 1, w) }, 2},
		{"up to date: waits", func(w *wakes) error { return m.Notify("s", "a", 2, w) }, 2},
		{"unnotified", func(w *wakes) error {
			if !m.Unnotify("s", "a", w) {
				t.Error("Unnotify found nothing")
			}
			_, err := m.Append(ctx, "s", "a", []byte("3"))
			return err
		}, 2},
		{"complete wakes", func(w *wakes) error {
			if err := m.Notify("s", "a", 3, w); err != nil {
				return err
			}
			return m.Complete(ctx, "s", "a")
		}, 3},
		{"delete wakes", func(w *wakes) error {
			if err := m.Create(ctx, "s", "b"); err != nil {
				return err
			}
			if err := m.Notify("s", "b", 0, w); err != nil {
				return err
			}
			return m.DeleteSession(ctx, "s")
		}, 4},
	}
	w := &wakes{}
	for _, st := range steps {
		if err := st.do(w); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if w.n != st.wantN {
			t.Fatalf("%s: %d wakes, want %d", st.name, w.n, st.wantN)
		}
	}
	if err := m.Notify("s", "a", 0, w); !errors.Is(err, eventlog.ErrNotFound) {
		t.Errorf("Notify on a deleted stream: %v, want ErrNotFound", err)
	}
}
