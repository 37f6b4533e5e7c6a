package peruser

import (
	"context"
	"testing"
	"time"
)

// TestRetire: a retired connection is replaced at the next Acquire, keeps
// serving the call that holds it, is stopped by its last release, and by
// Close if still held. Retiring a replaced connection does
// nothing.
func TestRetire(t *testing.T) {
	fa := &factory{}
	p := newPool(t, fa, Options{Name: "up", IdleTimeout: time.Hour})
	ctx := context.Background()
	old, relOld, err := p.Acquire(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Retire("alice", old) {
		t.Fatal("Retire of the current connection: false")
	}
	if p.Retire("alice", old) {
		t.Error("second Retire: true")
	}
	fresh, relFresh, _ := p.Acquire(ctx, "alice")
	defer relFresh()
	if fresh == old {
		t.Fatal("Acquire after Retire returned the retired connection")
	}
	p.reapIdle(time.Now())
	if old.(*fakeConn).closed.Load() {
		t.Fatal("a retired connection was stopped while acquired")
	}
	relOld() // the last holder: stops it before returning
	if !old.(*fakeConn).closed.Load() || fresh.(*fakeConn).closed.Load() {
		t.Errorf("after release: retired closed %v (want true), fresh closed %v (want false)",
			old.(*fakeConn).closed.Load(), fresh.(*fakeConn).closed.Load())
	}

	// A retired connection still held at Close is stopped too.
	held, relHeld, _ := p.Acquire(ctx, "bob")
	defer relHeld()
	p.Retire("bob", held)
	p.Close(ctx)
	if !held.(*fakeConn).closed.Load() {
		t.Error("Close left a retired connection running")
	}
}
