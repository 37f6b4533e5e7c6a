package streamable

import (
	"sync/atomic"
	"time"
)

// slowTimer is the heartbeat timer of a POST: if the call has not answered
// within a heartbeat interval it opens the call's SSE stream, so that
// heartbeats can flow. Almost every call answers first and stops it, so
// timers are reused (Handler.slowTimers) instead of a time.AfterFunc and
// its closure allocated per POST: a stopped timer is re-armed for the next
// call. A timer that fired is not reused, since its function may still be
// running for the call it fired for.
type slowTimer struct {
	t  *time.Timer
	pc atomic.Pointer[postCall] // the call it is armed for
}

func (st *slowTimer) fire() {
	if pc := st.pc.Load(); pc != nil {
		pc.openStream()
	}
}

// armSlow arms a timer for pc.
func (h *Handler) armSlow(pc *postCall, d time.Duration) *slowTimer {
	if st, _ := h.slowTimers.Get().(*slowTimer); st != nil {
		st.pc.Store(pc)
		st.t.Reset(d)
		return st
	}
	st := &slowTimer{}
	st.pc.Store(pc)
	st.t = time.AfterFunc(d, st.fire)
	return st
}

// disarmSlow stops st; unless it fired, it is kept for another call.
func (h *Handler) disarmSlow(st *slowTimer) {
	if st.t.Stop() {
		st.pc.Store(nil)
		h.slowTimers.Put(st)
	}
}
