package peruser

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// fakeConn records its lifecycle. The stdio connections it stands for are
// tested with real processes in package stdio and in the gateway tests.
type fakeConn struct {
	user    string
	started atomic.Bool
	closed  atomic.Bool
	gate    chan struct{} // Start waits for it when non-nil
}

func (f *fakeConn) Name() string          { return "up" }
func (f *fakeConn) State() upstream.State { return upstream.StateReady }
func (f *fakeConn) Info() *upstream.Info  { return nil }
func (f *fakeConn) Call(context.Context, string, json.RawMessage) (*jsonrpc.Message, error) {
	return nil, nil
}
func (f *fakeConn) Notify(context.Context, string, json.RawMessage) error { return nil }
func (f *fakeConn) Respond(context.Context, *jsonrpc.Message) error       { return nil }
func (f *fakeConn) Start(ctx context.Context) error {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.started.Store(true)
	return nil
}
func (f *fakeConn) Close(context.Context) error { f.closed.Store(true); return nil }

type factory struct {
	mu    sync.Mutex
	built []*fakeConn
	gate  chan struct{}
}

func (fa *factory) build(_ context.Context, user string) (Conn, error) {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	c := &fakeConn{user: user, gate: fa.gate}
	fa.built = append(fa.built, c)
	return c, nil
}

func newPool(t *testing.T, fa *factory, opts Options) *Pool {
	t.Helper()
	p := New(fa.build, opts)
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func TestOneConnectionPerUser(t *testing.T) {
	fa := &factory{}
	p := newPool(t, fa, Options{Name: "up"})
	ctx := context.Background()
	a1, relA1, err := p.Acquire(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	a2, relA2, _ := p.Acquire(ctx, "alice")
	b, relB, _ := p.Acquire(ctx, "bob")
	defer relA1()
	defer relA2()
	defer relB()
	if a1 != a2 {
		t.Error("one user's sessions got two connections")
	}
	if a1 == b {
		t.Error("two users share a connection")
	}
	if a1.(*fakeConn).user != "alice" || b.(*fakeConn).user != "bob" {
		t.Error("connection built for the wrong user")
	}
	if !a1.(*fakeConn).started.Load() {
		t.Error("connection not started before Acquire returned")
	}
	if p.Len() != 2 {
		t.Errorf("Len = %d, want 2", p.Len())
	}
}

func TestLimitRefusesNewUsersOnly(t *testing.T) {
	fa := &factory{}
	p := newPool(t, fa, Options{Name: "up", MaxConns: 1})
	ctx := context.Background()
	_, rel, err := p.Acquire(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	rel()
	if _, _, err := p.Acquire(ctx, "bob"); !errors.Is(err, ErrLimit) {
		t.Errorf("second user: err = %v, want ErrLimit", err)
	}
	if _, rel, err := p.Acquire(ctx, "alice"); err != nil {
		t.Errorf("existing user refused: %v", err)
	} else {
		rel()
	}
}

func TestIdleConnectionsAreReapedButNotBusyOnes(t *testing.T) {
	fa := &factory{}
	p := newPool(t, fa, Options{Name: "up", IdleTimeout: time.Hour})
	ctx := context.Background()
	idle, rel, _ := p.Acquire(ctx, "idle")
	rel()
	busy, relBusy, _ := p.Acquire(ctx, "busy")
	defer relBusy()

	p.reapIdle(time.Now()) // not idle long enough
	if idle.(*fakeConn).closed.Load() {
		t.Fatal("reaped before the idle timeout")
	}
	p.reapIdle(time.Now().Add(2 * time.Hour))
	if !idle.(*fakeConn).closed.Load() {
		t.Error("idle connection not reaped")
	}
	if busy.(*fakeConn).closed.Load() {
		t.Error("a connection in use was reaped")
	}
	if p.Len() != 1 {
		t.Errorf("Len = %d, want 1", p.Len())
	}
	again, rel2, _ := p.Acquire(ctx, "idle")
	defer rel2()
	if again == idle {
		t.Error("a reaped connection was handed out again")
	}
}

func TestAcquireWaitsForStartAndHonoursContext(t *testing.T) {
	fa := &factory{gate: make(chan struct{})}
	p := newPool(t, fa, Options{Name: "up"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := p.Acquire(ctx, "alice"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	got := make(chan Conn)
	go func() {
		c, rel, _ := p.Acquire(context.Background(), "alice")
		rel()
		got <- c
	}()
	close(fa.gate)
	if c := <-got; !c.(*fakeConn).started.Load() {
		t.Error("Acquire returned before the start ended")
	}
	if n := len(fa.built); n != 1 {
		t.Errorf("built %d connections for one user, want 1", n)
	}
}

func TestCloseStopsEveryone(t *testing.T) {
	fa := &factory{}
	p := New(fa.build, Options{Name: "up"})
	for _, u := range []string{"a", "b", "c"} {
		_, rel, _ := p.Acquire(context.Background(), u)
		rel()
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range fa.built {
		if !c.closed.Load() {
			t.Errorf("user %s not stopped", c.user)
		}
	}
	if _, _, err := p.Acquire(context.Background(), "a"); !errors.Is(err, ErrClosed) {
		t.Errorf("Acquire after Close: %v", err)
	}
}
