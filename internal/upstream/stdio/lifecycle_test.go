package stdio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

func TestCrashRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions(t, modeEcho), true)
	h.rec.waitReady(t)
	firstPID := h.c.Status().PID

	// Calls in flight when the process dies fail at once, not at a timeout.
	const inFlight = 5
	errs := make(chan error, inFlight)
	for range inFlight {
		go func() {
			_, _, err := toolCall(context.Background(), h.c, "block", nil)
			errs <- err
		}()
	}
	for range inFlight {
		h.rec.waitMessage(t, "test/blocked")
	}
	if _, _, err := toolCall(t.Context(), h.c, "crash", nil); !errors.Is(err, upstream.ErrUnavailable) {
		t.Errorf("crashing call = %v, want ErrUnavailable", err)
	}
	for range inFlight {
		if err := <-errs; !errors.Is(err, upstream.ErrUnavailable) {
			t.Errorf("call in flight = %v, want ErrUnavailable", err)
		}
	}

	h.rec.waitReady(t) // restarted and initialized again
	if got, _, err := toolCall(t.Context(), h.c, "echo", map[string]any{"text": "back"}); err != nil || got != "back" {
		t.Fatalf("call after restart = %q, %v", got, err)
	}
	st := h.c.Status()
	if st.Restarts != 1 || st.PID == firstPID || st.State != upstream.StateReady || !strings.Contains(st.LastError, "exit status 3") {
		t.Errorf("Status after restart = %+v, want 1 restart, a new pid, LastError with exit status 3", st)
	}
	if _, err := syscall.Wait4(firstPID, nil, syscall.WNOHANG, nil); !errors.Is(err, syscall.ECHILD) {
		t.Errorf("crashed process %d not reaped (wait4: %v)", firstPID, err)
	}
}

func TestReadyWait(t *testing.T) {
	t.Parallel()
	opts := testOptions(t, modeEcho)
	opts.ReadyWait = waitTimeout
	opts.RestartBackoffMin, opts.RestartBackoffMax = 50*time.Millisecond, 50*time.Millisecond
	h := newHarness(t, opts, true)
	h.rec.waitReady(t)
	if _, _, err := toolCall(t.Context(), h.c, "crash", nil); !errors.Is(err, upstream.ErrUnavailable) {
		t.Fatalf("crashing call = %v, want ErrUnavailable", err)
	}
	// The upstream is restarting: Call waits for it instead of failing.
	if got, _, err := toolCall(t.Context(), h.c, "echo", map[string]any{"text": "waited"}); err != nil || got != "waited" {
		t.Fatalf("call during restart = %q, %v", got, err)
	}
}

func TestCallTimeoutReason(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions(t, modeEcho), true)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := toolCall(ctx, h.c, "block", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call = %v, want DeadlineExceeded", err)
	}
	got := h.rec.waitMessage(t, "test/cancelled")
	if !strings.Contains(string(got.Params), `"reason":"request timed out"`) {
		t.Errorf("cancellation = %s, want reason request timed out", got.Params)
	}
}

// TestShutdown checks the stdio shutdown order: stdin close suffices for a
// well-behaved server; otherwise SIGTERM, then SIGKILL.
func TestShutdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode     string
		wantExit string
		wantLogs []string // escalation steps logged
	}{
		{modeEcho, "exit status 0", nil},
		{modeIgnoreStdin, "signal: terminated", []string{"SIGTERM"}},
		{modeIgnoreTerm, "signal: killed", []string{"SIGTERM", "SIGKILL"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			opts := testOptions(t, tt.mode)
			opts.ShutdownGrace = 200 * time.Millisecond
			if tt.mode == modeEcho {
				opts.ShutdownGrace = waitTimeout // must not be needed
			}
			h := newHarness(t, opts, true)
			pid := h.c.Status().PID
			if err := h.c.Close(t.Context()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			exit := h.log.wait(t, "process exit", func(r logRecord) bool { return r.Msg == "upstream process exited" })
			if exit.Attrs["exit"] != tt.wantExit || exit.Attrs["pid"] != fmt.Sprint(pid) {
				t.Errorf("exit = %v, want %q for pid %d", exit.Attrs, tt.wantExit, pid)
			}
			var steps []string
			for _, r := range h.log.all() {
				for _, sig := range []string{"SIGTERM", "SIGKILL"} {
					if strings.HasSuffix(r.Msg, "sending "+sig) {
						steps = append(steps, sig)
					}
				}
			}
			if strings.Join(steps, ",") != strings.Join(tt.wantLogs, ",") {
				t.Errorf("escalation = %v, want %v", steps, tt.wantLogs)
			}
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process %d still exists after Close (kill 0: %v)", pid, err)
			}
			if st := h.c.State(); st != upstream.StateStopped {
				t.Errorf("State = %s, want stopped", st)
			}
		})
	}
}

func TestStderrLogged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions(t, modeEcho), true)
	pid := fmt.Sprint(h.c.Status().PID)
	h.log.wait(t, "startup line", func(r logRecord) bool {
		return r.Msg == "upstream stderr" && r.Attrs["line"] == "fake server starting" &&
			r.Attrs["upstream"] == "fake" && r.Attrs["pid"] == pid
	})
	if _, _, err := toolCall(t.Context(), h.c, "stderrlong", nil); err != nil {
		t.Fatal(err)
	}
	long := h.log.wait(t, "long line", func(r logRecord) bool {
		return r.Msg == "upstream stderr" && strings.HasPrefix(r.Attrs["line"], "yyy")
	})
	if len(long.Attrs["line"]) != maxStderrLine || long.Attrs["truncated"] != "true" {
		t.Errorf("long line logged with %d bytes, truncated=%s; want %d, true", len(long.Attrs["line"]), long.Attrs["truncated"], maxStderrLine)
	}
	h.log.wait(t, "line after the long one", func(r logRecord) bool {
		return r.Msg == "upstream stderr" && r.Attrs["line"] == "after-long"
	})
	for _, r := range h.log.all() {
		if r.Msg == "upstream stderr" && strings.HasPrefix(r.Attrs["line"], "y") && r.Attrs["truncated"] != "true" {
			t.Errorf("the rest of a cut line was logged as a line of its own")
		}
	}
}

func TestOversizedLine(t *testing.T) {
	t.Parallel()
	opts := testOptions(t, modeEcho)
	opts.MaxMessageSize = 64 << 10
	h := newHarness(t, opts, true)
	h.rec.waitReady(t)
	if _, _, err := toolCall(t.Context(), h.c, "big", map[string]any{"size": 100_000}); !errors.Is(err, upstream.ErrUnavailable) {
		t.Fatalf("oversized answer = %v, want ErrUnavailable", err)
	}
	h.rec.waitReady(t) // restarted
	if st := h.c.Status(); !strings.Contains(st.LastError, "longer than 65536 bytes") || st.Restarts != 1 {
		t.Errorf("Status = %+v, want the size error and 1 restart", st)
	}
	if got, _, err := toolCall(t.Context(), h.c, "big", map[string]any{"size": 60_000}); err != nil || len(got) != 60_000 {
		t.Errorf("answer under the limit = %d bytes, %v", len(got), err)
	}
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    func(*Options)
		wantErr string
	}{
		{"unsupported version", func(o *Options) { o.Env[serverEnv] = modeBadVersion }, `protocol version "1999-01-01"`},
		{"initialize timeout", func(o *Options) {
			o.Env[serverEnv] = modeMute
			o.InitTimeout = 100 * time.Millisecond
		}, "no answer within 100ms"},
		{"no such command", func(o *Options) { o.Command = "/nonexistent/mcp-server" }, "starting process"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := testOptions(t, modeEcho)
			opts.MaxRestarts = 2
			tt.opts(&opts)
			h := newHarness(t, opts, false)
			err := h.c.Start(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Start = %v, want an error with %q", err, tt.wantErr)
			}
			waitState(t, h.c, upstream.StateStopped) // gave up after MaxRestarts
			st := h.c.Status()
			if st.Restarts != 2 || !strings.Contains(st.LastError, tt.wantErr) || st.PID != 0 {
				t.Errorf("Status = %+v, want 2 restarts and LastError with %q", st, tt.wantErr)
			}
			if h.c.Info() != nil {
				t.Errorf("Info = %+v, want nil", h.c.Info())
			}
		})
	}
}

// TestCloseDuringCalls closes the Conn under load: every call ends, none
// hangs.
func TestCloseDuringCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions(t, modeEcho), true)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			for {
				_, _, err := toolCall(context.Background(), h.c, "echo", map[string]any{"text": fmt.Sprint(i)})
				if errors.Is(err, upstream.ErrUnavailable) {
					return
				}
				if err != nil {
					t.Errorf("call: %v", err)
					return
				}
			}
		})
	}
	if err := h.c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// TestPool runs stdio upstreams in an upstream.Pool: one that works and one
// that cannot start, which must not keep the other from serving.
func TestPool(t *testing.T) {
	t.Parallel()
	good := newHarness(t, testOptions(t, modeEcho), false)
	badOpts := testOptions(t, modeEcho)
	badOpts.Name, badOpts.Command = "broken", "/nonexistent/mcp-server"
	bad := newHarness(t, badOpts, false)
	pool, err := upstream.NewPool([]upstream.Conn{good.c, bad.c}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(t.Context()); err != nil {
		t.Fatalf("Start = %v, want nil", err)
	}
	conn, _ := pool.Get("fake")
	if _, err := conn.Call(t.Context(), "tools/list", nil); err != nil {
		t.Errorf("Call through the pool: %v", err)
	}
	st := pool.Statuses()
	if len(st) != 2 || st[0].State != upstream.StateReady || st[1].State == upstream.StateReady ||
		!strings.Contains(st[1].LastError, "no such file") {
		t.Errorf("Statuses = %+v", st)
	}
	if err := pool.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, s := range pool.Statuses() {
		if s.State != upstream.StateStopped || s.PID != 0 {
			t.Errorf("after Close: %+v", s)
		}
	}
}
