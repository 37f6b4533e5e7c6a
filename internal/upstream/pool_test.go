package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// fakeConn is a Conn without a transport.
type fakeConn struct{ name string }

func (f *fakeConn) Name() string { return f.name }
func (f *fakeConn) State() State { return StateReady }
func (f *fakeConn) Info() *Info  { return nil }
func (f *fakeConn) Call(context.Context, string, json.RawMessage) (*jsonrpc.Message, error) {
	return nil, ErrUnavailable
}
func (f *fakeConn) Notify(context.Context, string, json.RawMessage) error { return ErrUnavailable }
func (f *fakeConn) Respond(context.Context, *jsonrpc.Message) error       { return ErrUnavailable }

// lifecycleConn is a fakeConn with a lifecycle and a detailed status.
// Start and Close wait at barrier (when set) so that tests can prove they
// run concurrently.
type lifecycleConn struct {
	fakeConn
	startErr, closeErr error
	barrier            *sync.WaitGroup

	mu             sync.Mutex // guards the counters
	starts, closes int
}

func (l *lifecycleConn) Start(ctx context.Context) error {
	l.mu.Lock()
	l.starts++
	l.mu.Unlock()
	return l.meet(ctx, l.startErr)
}

func (l *lifecycleConn) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closes++
	l.mu.Unlock()
	return l.meet(ctx, l.closeErr)
}

// meet waits until every conn sharing the barrier has arrived.
func (l *lifecycleConn) meet(ctx context.Context, err error) error {
	if l.barrier == nil {
		return err
	}
	l.barrier.Done()
	done := make(chan struct{})
	go func() { l.barrier.Wait(); close(done) }()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *lifecycleConn) counts() (starts, closes int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.starts, l.closes
}

func (l *lifecycleConn) Status() Status {
	return Status{Name: l.name, Transport: "fake", State: StateRestarting, Restarts: 3, LastError: "boom"}
}

func TestNewPoolRejects(t *testing.T) {
	tests := []struct {
		name    string
		conns   []Conn
		wantErr string
	}{
		{"duplicate", []Conn{&fakeConn{"a"}, &fakeConn{"b"}, &fakeConn{"a"}}, `duplicate upstream name "a"`},
		{"empty name", []Conn{&fakeConn{""}}, "has no name"},
		{"nil", []Conn{nil}, "is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewPool(tt.conns, nil); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewPool = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

func TestPoolLookup(t *testing.T) {
	a, b, c := &fakeConn{"a"}, &lifecycleConn{fakeConn: fakeConn{"b"}}, &fakeConn{"c"}
	conns := []Conn{c, a, b}
	p, err := NewPool(conns, nil)
	if err != nil {
		t.Fatal(err)
	}
	conns[0] = a // the pool keeps its own copy
	all := p.All()
	if len(all) != 3 || all[0] != c || all[1] != a || all[2] != b || p.Len() != 3 {
		t.Errorf("All = %v, want c, a, b", all)
	}
	all[0] = nil // and All returns the caller's copy
	if p.All()[0] != c {
		t.Error("All shares its slice")
	}
	if got, ok := p.Get("b"); !ok || got != b {
		t.Errorf("Get(b) = %v, %v", got, ok)
	}
	if _, ok := p.Get("nope"); ok {
		t.Error("Get(nope) found something")
	}
	want := []Status{
		{Name: "c", State: StateReady},
		{Name: "a", State: StateReady},
		{Name: "b", Transport: "fake", State: StateRestarting, Restarts: 3, LastError: "boom"},
	}
	if diff := cmp.Diff(want, p.Statuses()); diff != "" {
		t.Errorf("Statuses (-want +got):\n%s", diff)
	}
}

// capture is a slog handler that keeps messages.
type capture struct {
	mu   sync.Mutex // guards msgs
	msgs []string
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *capture) WithGroup(string) slog.Handler            { return c }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	c.msgs = append(c.msgs, b.String())
	return nil
}

func TestPoolLifecycle(t *testing.T) {
	var barrier sync.WaitGroup
	barrier.Add(3) // the three lifecycle conns, for Start
	ok1 := &lifecycleConn{fakeConn: fakeConn{"ok1"}, barrier: &barrier, closeErr: errors.New("stuck")}
	bad := &lifecycleConn{fakeConn: fakeConn{"bad"}, barrier: &barrier, startErr: errors.New("no such command")}
	ok2 := &lifecycleConn{fakeConn: fakeConn{"ok2"}, barrier: &barrier}
	plain := &fakeConn{"plain"}
	logs := &capture{}
	p, err := NewPool([]Conn{ok1, plain, bad, ok2}, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	// Start is concurrent (the barrier needs all three at once) and a
	// failing upstream does not fail the pool.
	if err := p.Start(ctx); err != nil {
		t.Fatalf("Start = %v, want nil despite one failing upstream", err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatalf("second Start = %v", err)
	}
	for _, l := range []*lifecycleConn{ok1, bad, ok2} {
		if starts, _ := l.counts(); starts != 1 {
			t.Errorf("%s started %d times, want 1", l.name, starts)
		}
	}
	logs.mu.Lock()
	gotLogs := strings.Join(logs.msgs, "\n")
	logs.mu.Unlock()
	if !strings.Contains(gotLogs, "upstream start failed; retrying in background upstream=bad err=no such command") {
		t.Errorf("logs = %q, want the failure of bad", gotLogs)
	}

	barrier.Add(3) // again, for Close
	err = p.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), `closing upstream "ok1": stuck`) {
		t.Errorf("Close = %v, want ok1's failure", err)
	}
	if err := p.Close(ctx); err != nil {
		t.Errorf("second Close = %v", err)
	}
	for _, l := range []*lifecycleConn{ok1, bad, ok2} {
		if _, closes := l.counts(); closes != 1 {
			t.Errorf("%s closed %d times, want 1", l.name, closes)
		}
	}
	if err := p.Start(ctx); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Start after Close = %v, want ErrPoolClosed", err)
	}
}

func TestPoolCloseWithoutStart(t *testing.T) {
	l := &lifecycleConn{fakeConn: fakeConn{"x"}}
	p, err := NewPool([]Conn{l}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if starts, closes := l.counts(); starts != 0 || closes != 1 {
		t.Errorf("starts, closes = %d, %d; want 0, 1", starts, closes)
	}
}
