package stdio

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// TestMain runs the fake MCP server when the binary is re-executed as an
// upstream, and otherwise the tests, then checks that no child process is
// left behind.
func TestMain(m *testing.M) {
	if mode := os.Getenv(serverEnv); mode != "" {
		os.Exit(runFakeServer(mode))
	}
	code := m.Run()
	if code == 0 {
		if kids := childPIDs(); len(kids) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: child processes left running: %v\n", kids)
			code = 1
		}
		if stacks := leftoverGoroutines(); stacks != "" {
			fmt.Fprintf(os.Stderr, "FAIL: goroutines left after every Conn was closed:\n%s\n", stacks)
			code = 1
		}
	}
	os.Exit(code)
}

// childPIDs lists this process's children (live or zombie).
func childPIDs() []string {
	files, _ := filepath.Glob("/proc/self/task/*/children")
	var pids []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		pids = append(pids, strings.Fields(string(b))...)
	}
	return pids
}

// waitTimeout bounds every wait in these tests; reaching it is a failure.
const waitTimeout = 15 * time.Second

// recorder is a Handler that hands what it gets to the test.
type recorder struct {
	msgs    chan *jsonrpc.Message
	ready   chan *upstream.Info
	backlog []*jsonrpc.Message // received but not yet waited for; test goroutine only
}

func newRecorder() *recorder {
	return &recorder{msgs: make(chan *jsonrpc.Message, 256), ready: make(chan *upstream.Info, 16)}
}

func (r *recorder) UpstreamMessage(name string, msg *jsonrpc.Message) { r.msgs <- msg }
func (r *recorder) UpstreamReady(name string, info *upstream.Info)    { r.ready <- info }

// waitMessage returns the first message with the given method, keeping
// the others for later waits. Only one goroutine may call it at a time.
func (r *recorder) waitMessage(t testing.TB, method string) *jsonrpc.Message {
	t.Helper()
	for i, m := range r.backlog {
		if m.Method == method {
			r.backlog = slices.Delete(r.backlog, i, i+1)
			return m
		}
	}
	timeout := time.After(waitTimeout)
	for {
		select {
		case m := <-r.msgs:
			if m.Method == method {
				return m
			}
			r.backlog = append(r.backlog, m)
		case <-timeout:
			t.Fatalf("no %s message from the upstream", method)
		}
	}
}

func (r *recorder) waitReady(t testing.TB) *upstream.Info {
	t.Helper()
	select {
	case info := <-r.ready:
		return info
	case <-time.After(waitTimeout):
		t.Fatal("upstream did not become ready")
		return nil
	}
}

// logRecord is a log record flattened for matching.
type logRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// logCapture is a slog.Handler that keeps records and lets tests wait for
// one.
type logCapture struct {
	attrs []slog.Attr
	sink  *logSink
}

type logSink struct {
	mu      sync.Mutex // guards records and changed
	records []logRecord
	changed chan struct{} // closed and replaced at every append
}

func newLogCapture() *logCapture {
	return &logCapture{sink: &logSink{changed: make(chan struct{})}}
}

func (h *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (h *logCapture) WithGroup(string) slog.Handler            { return h }
func (h *logCapture) WithAttrs(as []slog.Attr) slog.Handler {
	return &logCapture{attrs: append(append([]slog.Attr(nil), h.attrs...), as...), sink: h.sink}
}

func (h *logCapture) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	h.sink.mu.Lock()
	h.sink.records = append(h.sink.records, rec)
	close(h.sink.changed)
	h.sink.changed = make(chan struct{})
	h.sink.mu.Unlock()
	return nil
}

// wait returns the first record (old or new) that match accepts.
func (h *logCapture) wait(t testing.TB, what string, match func(logRecord) bool) logRecord {
	t.Helper()
	timeout := time.After(waitTimeout)
	seen := 0
	for {
		h.sink.mu.Lock()
		recs, changed := h.sink.records[seen:], h.sink.changed
		seen = len(h.sink.records)
		h.sink.mu.Unlock()
		for _, r := range recs {
			if match(r) {
				return r
			}
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no log record: %s", what)
		}
	}
}

func (h *logCapture) all() []logRecord {
	h.sink.mu.Lock()
	defer h.sink.mu.Unlock()
	return append([]logRecord(nil), h.sink.records...)
}

// harness is a Conn running the fake server, with its handler and logs.
type harness struct {
	c   *Conn
	rec *recorder
	log *logCapture
}

// testOptions are Options for a fake server in mode, fast to restart and
// to shut down.
func testOptions(t testing.TB, mode string) Options {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Name:    "fake",
		Command: exe,
		// The race detector's exit delay (1s by default) would slow every
		// shutdown of the re-executed test binary.
		Env:               map[string]string{serverEnv: mode, "GORACE": "atexit_sleep_ms=0"},
		RestartBackoffMin: time.Millisecond,
		RestartBackoffMax: 10 * time.Millisecond,
		InitTimeout:       waitTimeout,
		ShutdownGrace:     waitTimeout,
	}
}

// newHarness builds and starts a Conn for opts; Cleanup closes it and
// checks that nothing it started is left.
func newHarness(t testing.TB, opts Options, start bool) *harness {
	t.Helper()
	h := &harness{rec: newRecorder(), log: newLogCapture()}
	c, err := New(opts, h.rec, slog.New(h.log))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.c = c
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*waitTimeout)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if start {
		if err := c.Start(context.Background()); err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	return h
}

// waitState waits until c is in state want.
func waitState(t testing.TB, c *Conn, want upstream.State) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		state, changed := c.sup.Watch()
		if state == want {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("state is %s, want %s", state, want)
		}
	}
}

// leftoverGoroutines returns the stacks of all goroutines if one of this
// package's is still running. Close waits for them all, but one may still
// be returning from its last deferred call, so the check retries briefly.
func leftoverGoroutines() string {
	var stacks string
	for range 200 {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "upstream/stdio.(*process)") && !strings.Contains(stacks, "upstream/stdio.(*Conn).run") &&
			!strings.Contains(stacks, "internal/upstream.(*Supervisor).run") {
			return ""
		}
		time.Sleep(5 * time.Millisecond)
	}
	return stacks
}
