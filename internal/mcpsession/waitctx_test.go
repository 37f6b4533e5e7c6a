package mcpsession

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

func TestHeartbeatContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := newHeartbeatContext(parent, time.Second)
		defer c.release()

		// A wait that outlasts the interval ends with DeadlineExceeded.
		c.arm()
		start := time.Now()
		<-c.Done()
		if got := time.Since(start); got != time.Second {
			t.Errorf("heartbeat after %v, want 1s", got)
		}
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Err after a heartbeat: got %v, want DeadlineExceeded", err)
		}
		c.disarm()

		// The next wait starts afresh; one that ends early (disarm) leaves
		// no heartbeat behind for the wait after it.
		c.arm()
		if c.Err() != nil {
			t.Fatalf("Err after re-arming: %v", c.Err())
		}
		time.Sleep(500 * time.Millisecond)
		c.disarm()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if c.Err() != nil {
			t.Fatalf("a disarmed wait got a heartbeat: %v", c.Err())
		}
		c.arm()
		if d, ok := c.Deadline(); !ok || d != time.Now().Add(time.Second) {
			t.Errorf("Deadline while armed: got %v %v, want one interval from now", d, ok)
		}
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		if c.Err() != nil {
			t.Fatalf("heartbeat before the interval: %v", c.Err())
		}

		// The stream's end ends the wait, and every later one.
		cancel()
		<-c.Done()
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("Err after the parent's end: got %v, want Canceled", err)
		}
		c.disarm()
		c.arm()
		select {
		case <-c.Done():
		default:
			t.Error("a wait armed after the parent's end is not done")
		}
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("Err after re-arming: got %v, want Canceled", err)
		}
	})
}

// TestCallContextDerivesWithoutGoroutines: contexts derived from a call
// context register with the session's context rather than each starting a
// goroutine, and end with the session.
func TestCallContextDerivesWithoutGoroutines(t *testing.T) {
	session, endSession := context.WithCancel(context.Background())
	type key struct{}
	request, cancelRequest := context.WithCancel(context.WithValue(context.Background(), key{}, "request"))
	defer cancelRequest()
	ls := &Live{ctx: session}
	call := CallContext(ls, request)
	if got := call.Value(key{}); got != "request" {
		t.Errorf("Value: got %v, want the request's", got)
	}

	before := runtime.NumGoroutine()
	var derived []context.Context
	for range 50 {
		ctx, cancel := context.WithTimeout(call, time.Hour)
		defer cancel()
		derived = append(derived, ctx)
	}
	if got := runtime.NumGoroutine(); got > before+5 {
		t.Errorf("goroutines: %d before deriving 50 contexts, %d after", before, got)
	}
	cancelRequest()
	if derived[0].Err() != nil {
		t.Errorf("the request's end cancelled a call: %v", derived[0].Err())
	}
	endSession()
	for _, ctx := range derived {
		<-ctx.Done()
	}
}
