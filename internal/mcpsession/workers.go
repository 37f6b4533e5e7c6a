package mcpsession

import "time"

// workerIdle is how long a worker goroutine waits for more work before it
// exits (up to twice that: see workpool.Pool).
const workerIdle = 10 * time.Second

// Go runs f on one of the hub's worker goroutines: an idle one if there is
// one, else a new one (workpool.Pool). Workers outlive their task for a
// while (workerIdle) and take the next one, so that work started per
// request (a 2024-11-05 POST's calls, which run after the POST is
// answered) runs on a stack that has already grown rather than growing a
// fresh goroutine's stack, copy by copy, every time. Workers exit once
// Shutdown begins; Shutdown waits for them. Call Go only between a
// successful Enter and its Leave (f may do the Leave), so that Shutdown
// waits for f and no worker starts after Shutdown has counted them.
func (h *Hub) Go(f func()) { h.pool.Go(f) }
