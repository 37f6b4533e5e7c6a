package relay

import (
	"context"
	"fmt"
	"time"
)

// errCallTimedOut is the cause of a call's context when the relay ended it
// at its upstream's CallTimeout. It wraps context.DeadlineExceeded, so that
// code asking context.Cause whether a call timed out (the upstream
// connections, to word their notifications/cancelled) still learns it.
var errCallTimedOut = fmt.Errorf("upstream call timed out: %w", context.DeadlineExceeded)

// Call timeouts are enforced by one sweeper per relay instead of a timer per
// call: context.WithTimeout cost a timer-heap insert and delete, and two
// allocations, on every forwarded call (about 4% of the gateway's CPU per
// call in front of a fast upstream). A call ends at most one sweep interval
// after its deadline.
const (
	minSweep = 5 * time.Millisecond
	maxSweep = 500 * time.Millisecond
)

// sweepInterval is a tenth of the shortest call timeout, between minSweep
// and maxSweep.
func sweepInterval(shortest time.Duration) time.Duration {
	return min(max(shortest/10, minSweep), maxSweep)
}

// startSweeper starts the sweeper once, on the first forwarded call (the
// upstreams are all registered by then). It runs until Close.
func (r *Relay) startSweeper() {
	r.sweepOnce.Do(func() {
		shortest := time.Duration(0)
		for _, u := range r.upstreams {
			if shortest == 0 || u.CallTimeout < shortest {
				shortest = u.CallTimeout
			}
		}
		r.sweepDone = make(chan struct{})
		go r.sweep(sweepInterval(shortest))
	})
}

// sweep ends the calls whose deadline has passed, every interval, until the
// relay closes.
func (r *Relay) sweep(interval time.Duration) {
	defer close(r.sweepDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	var overdue []*call
	for {
		select {
		case <-r.ctx.Done():
			return
		case now := <-t.C:
			overdue = overdue[:0]
			r.mu.Lock()
			for _, cl := range r.calls {
				if !cl.deadline.IsZero() && now.After(cl.deadline) {
					overdue = append(overdue, cl)
				}
			}
			r.mu.Unlock()
			for _, cl := range overdue {
				cl.cancel(errCallTimedOut)
			}
			clear(overdue) // hold no call past its sweep
		}
	}
}
