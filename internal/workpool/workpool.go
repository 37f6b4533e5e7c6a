// Package workpool runs tasks on reused goroutines, so that work started
// per request or per event runs on a stack that has grown already instead
// of growing a fresh goroutine's 2 KB stack, copy by copy, every time.
package workpool

import (
	"sync"
	"time"
)

// DefaultIdle is Pool.Idle's default.
const DefaultIdle = 10 * time.Second

// Pool hands each task to an idle worker goroutine, or starts one. A
// worker waits for its next task for between Idle and twice that (its
// idle timer is re-armed once per idle period, not per task, which would
// cost a timer-heap update on every task), then exits; every worker exits
// once Stop is called, a busy one after its task, and Wait waits for them.
// The zero value is ready to use; its methods are safe for concurrent use.
type Pool struct {
	// Idle is how long a worker waits for a task before it exits (up to
	// twice that). Zero means DefaultIdle. Set it before the first Go.
	Idle time.Duration

	init sync.Once
	work chan func() // hands a task to an idle worker; unbuffered
	quit chan struct{}
	stop sync.Once
	wg   sync.WaitGroup // the workers
}

func (p *Pool) setup() {
	p.init.Do(func() {
		p.work, p.quit = make(chan func()), make(chan struct{})
		if p.Idle <= 0 {
			p.Idle = DefaultIdle
		}
	})
}

// Go runs f on an idle worker, or on a new one. After Stop, f runs on a
// new goroutine that exits after it. Do not call Go while Wait may find
// no worker left (after Stop, once the owner has begun to Wait).
func (p *Pool) Go(f func()) {
	p.setup()
	select {
	case p.work <- f:
		return
	default:
	}
	p.wg.Add(1)
	go p.worker(f)
}

// Stop makes idle workers exit, and busy ones once their task returns.
// Calling it again does nothing.
func (p *Pool) Stop() {
	p.setup()
	p.stop.Do(func() { close(p.quit) })
}

// Wait waits until every worker has exited: after Stop, until the running
// tasks have returned.
func (p *Pool) Wait() { p.wg.Wait() }

// worker runs f, then whatever Go hands it, until it has been idle long
// enough or the pool is stopped.
func (p *Pool) worker(f func()) {
	defer p.wg.Done()
	f()
	idle := time.NewTimer(p.Idle)
	defer idle.Stop()
	busy := true
	for {
		select {
		case <-p.quit:
			return
		default:
		}
		select {
		case f := <-p.work:
			f()
			busy = true
		case <-idle.C:
			if !busy {
				return
			}
			busy = false
			idle.Reset(p.Idle)
		case <-p.quit:
			return
		}
	}
}
