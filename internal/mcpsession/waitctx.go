package mcpsession

import (
	"context"
	"sync"
	"time"
)

// heartbeatContext is the context of a stream's waits for events: done when
// the stream's context is, or, while armed, when a heartbeat interval
// passes. One per stream, with one timer reused across waits, instead of a
// context.WithTimeout (a context, a timer and a registration with the
// parent) per wait. A heartbeat that fires ends only the wait it was armed
// for: the next arm starts a fresh Done channel.
//
// The event log's Wait sees what a WithTimeout would give it: Done, and Err
// reporting context.DeadlineExceeded when the interval passed.
type heartbeatContext struct {
	context.Context // the stream's: Value, and the parent of the rest
	interval        time.Duration

	stopParent func() bool   // the AfterFunc on the stream's context
	timer      *time.Timer   // fires fire; nil before the first arm
	mu         sync.Mutex    // guards the fields below
	done       chan struct{} // closed when err is set
	err        error         // nil, context.DeadlineExceeded (heartbeat) or the stream's error
	deadline   time.Time     // when the armed wait ends; zero while disarmed
}

func newHeartbeatContext(parent context.Context, interval time.Duration) *heartbeatContext {
	c := &heartbeatContext{Context: parent, interval: interval, done: make(chan struct{})}
	c.stopParent = context.AfterFunc(parent, c.parentDone)
	return c
}

func (c *heartbeatContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

func (c *heartbeatContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *heartbeatContext) Deadline() (time.Time, bool) {
	d, ok := c.Context.Deadline()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.deadline.IsZero() && (!ok || c.deadline.Before(d)) {
		return c.deadline, true
	}
	return d, ok
}

// arm starts a wait of at most one interval.
func (c *heartbeatContext) arm() {
	c.mu.Lock()
	if c.err == context.DeadlineExceeded && c.Context.Err() == nil {
		c.done = make(chan struct{}) // the last wait's heartbeat fired
		c.err = nil
	}
	c.deadline = time.Now().Add(c.interval)
	c.mu.Unlock()
	if c.timer == nil {
		c.timer = time.AfterFunc(c.interval, c.fire)
	} else {
		c.timer.Reset(c.interval)
	}
}

// disarm ends the wait that arm started.
func (c *heartbeatContext) disarm() {
	c.mu.Lock()
	c.deadline = time.Time{}
	c.mu.Unlock()
	c.timer.Stop()
}

// fire ends the armed wait if its deadline has passed. A late call from an
// earlier arm (Stop does not wait for a fire already started) finds the
// deadline disarmed or in the future and does nothing.
func (c *heartbeatContext) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.deadline.IsZero() || time.Now().Before(c.deadline) {
		return
	}
	c.err = context.DeadlineExceeded
	close(c.done)
}

func (c *heartbeatContext) parentDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.err {
	case nil:
		c.err = c.Context.Err()
		close(c.done)
	case context.DeadlineExceeded:
		c.err = c.Context.Err() // done is closed already
	}
}

// release stops the timer and the registration with the stream's context.
func (c *heartbeatContext) release() {
	c.stopParent()
	if c.timer != nil {
		c.timer.Stop()
	}
}
