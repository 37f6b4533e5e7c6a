package mcpsession

import "time"

// workerIdle is how long a worker goroutine waits for more work before it
// exits: between one and two of these (the idle timer is not re-armed per
// task, which would cost a timer-heap update on every call).
const workerIdle = 10 * time.Second

// Go runs f on one of the hub's worker goroutines: an idle one if there is
// one, else a new one. Workers outlive their task for a while (workerIdle)
// and take the next one, so that work started per request (a 2024-11-05
// POST's calls, which run after the POST is answered) runs on a stack that
// has already grown rather than growing a fresh goroutine's stack, copy by
// copy, every time. Workers exit once Shutdown begins; Shutdown waits for
// them. Call Go only between a successful Enter and its Leave (f may do
// the Leave), so that Shutdown waits for f and no worker starts after
// Shutdown has counted them.
func (h *Hub) Go(f func()) {
	select {
	case h.work <- f: // an idle worker takes it
		return
	default:
	}
	h.workers.Add(1)
	go h.worker(f)
}

// worker runs f, then whatever Go hands it, until it has been idle for
// workerIdle or Shutdown begins.
func (h *Hub) worker(f func()) {
	defer h.workers.Done()
	f()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	busy := true
	for {
		select {
		case f := <-h.work:
			f()
			busy = true
		case <-idle.C:
			if !busy {
				return
			}
			busy = false
			idle.Reset(workerIdle)
		case <-h.closingCtx.Done():
			return
		}
	}
}
