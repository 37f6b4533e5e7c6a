package mcpsession

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/session"
)

// workers counts the hub's worker goroutines.
func workers() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "workpool.(*Pool).worker(")
}

func TestHubGo(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, h *Hub) // how the idle worker goes away
	}{
		{"idle timeout", func(t *testing.T, h *Hub) { time.Sleep(2*workerIdle + time.Second) }},
		{"shutdown", func(t *testing.T, h *Hub) {
			if err := h.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mgr := session.NewManager(session.NewMemoryStore(), session.Config{})
				defer mgr.Close()
				h := New(nil, mgr, eventlog.NewMemory(eventlog.Limits{}), nil)
				ran := make(chan int, 3)
				for i := range 3 {
					h.Go(func() { ran <- i })
					if got := <-ran; got != i {
						t.Fatalf("task %d ran as %d", i, got)
					}
					synctest.Wait() // the worker is idle again
				}
				if got := workers(); got != 1 {
					t.Errorf("workers after three tasks in turn: got %d, want 1 (reused)", got)
				}
				tt.end(t, h)
				synctest.Wait()
				if got := workers(); got != 0 {
					t.Errorf("workers left: %d", got)
				}
				_ = h.Shutdown(context.Background())
			})
		})
	}
}
