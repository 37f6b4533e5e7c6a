package eventlog

// Waker is told once that a stream it watches has changed (see Notifier).
type Waker interface {
	// Wake is called with the log's lock held: it must return quickly and
	// must not call the log.
	Wake()
}

// Notifier is implemented by logs that can tell a watcher when a stream
// changes, instead of a goroutine blocking in Wait for every stream: a
// parked SSE connection waits for its events this way at the cost of a
// slice entry rather than a goroutine.
type Notifier interface {
	// Notify arranges for w.Wake to be called once, when the stream has an
	// event after the given sequence, is complete, or is gone. If that is
	// so already, Wake is called before Notify returns. It returns
	// ErrNotFound (without calling Wake) when the stream does not exist.
	Notify(sessionID, streamID string, after uint64, w Waker) error
	// Unnotify cancels a Notify whose Wake has not been called yet. It
	// reports whether it found one.
	Unnotify(sessionID, streamID string, w Waker) bool
}

var _ Notifier = (*Memory)(nil)

// Notify implements Notifier.
func (m *Memory) Notify(sessionID, streamID string, after uint64, w Waker) error {
	ms, s, err := m.lock(sessionID, streamID)
	if err != nil {
		return err
	}
	defer ms.mu.Unlock()
	if s.last > after || s.complete {
		w.Wake()
		return nil
	}
	s.wakers = append(s.wakers, w)
	return nil
}

// Unnotify implements Notifier.
func (m *Memory) Unnotify(sessionID, streamID string, w Waker) bool {
	ms, s, err := m.lock(sessionID, streamID)
	if err != nil {
		return false
	}
	defer ms.mu.Unlock()
	for i, x := range s.wakers {
		if x == w {
			last := len(s.wakers) - 1
			s.wakers[i] = s.wakers[last]
			s.wakers[last] = nil
			s.wakers = s.wakers[:last]
			return true
		}
	}
	return false
}

// wakeWakersLocked calls and forgets the stream's wakers.
func (s *memStream) wakeWakersLocked() {
	for i, w := range s.wakers {
		w.Wake()
		s.wakers[i] = nil
	}
	s.wakers = s.wakers[:0]
}
