package upstream

import "context"

// The two ends of an attempt that every supervised Conn shares: the Conn
// publishes its ready attempt (a process, a remote session) and takes it
// back together with the state change, under the supervisor's lock, so
// that a caller that sees StateReady finds the attempt and one that sees
// it gone finds the state changed (WaitReady checks both under the lock).

// Publish runs set (which stores the Conn's ready attempt and its Info)
// with the lock held and sets StateReady.
func (s *Supervisor) Publish(set func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set()
	s.SetStateLocked(StateReady)
}

// Retract runs clear (which forgets the Conn's ready attempt, so that new
// calls fail or wait) with the lock held and, unless ctx (the RunOnce
// context) has ended — Close, which sets StateStopped —, sets
// StateRestarting.
func (s *Supervisor) Retract(ctx context.Context, clear func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear()
	if ctx.Err() == nil {
		s.SetStateLocked(StateRestarting)
	}
}
