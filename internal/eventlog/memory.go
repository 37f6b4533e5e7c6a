package eventlog

import (
	"context"
	"sync"
)

// Memory is a Log held in this process's memory. It suits a single replica;
// its bounds are per stream and per session (see Limits), so the total is
// bounded by the number of sessions, which package session limits.
type Memory struct {
	limits Limits

	mu       sync.RWMutex // guards sessions (the map, not its values)
	sessions map[string]*memSession
}

// memSession holds one session's streams.
type memSession struct {
	mu      sync.Mutex // guards every field below and every field of its streams
	streams map[string]*memStream
	nextOrd uint64 // creation counter: eviction goes oldest first
	bytes   int64  // retained data bytes of all streams
	gone    bool   // DeleteSession removed this session; it must not be used
}

// memStream is one stream; its fields are guarded by its session's mu.
type memStream struct {
	ord       uint64
	events    []Event // retained events, oldest first
	first     uint64  // sequence of events[0], or last+1 when events is empty
	last      uint64
	delivered uint64
	bytes     int64 // retained data bytes
	complete  bool
	changed   chan struct{} // closed on the next change; nil until a Wait needs it
	wakers    []Waker       // told once of the next change (Notify)
}

var _ Log = (*Memory)(nil)

// NewMemory returns an empty in-memory Log with the given limits (zero
// fields take their defaults).
func NewMemory(limits Limits) *Memory {
	return &Memory{limits: limits.withDefaults(), sessions: make(map[string]*memSession)}
}

// session returns the session's record, creating it when create is set.
func (m *Memory) session(sessionID string, create bool) *memSession {
	m.mu.RLock()
	ms := m.sessions[sessionID]
	m.mu.RUnlock()
	if ms != nil || !create {
		return ms
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ms = m.sessions[sessionID]; ms == nil {
		ms = &memSession{streams: make(map[string]*memStream)}
		m.sessions[sessionID] = ms
	}
	return ms
}

// lock finds and locks the stream's session. On success the caller must
// unlock ms.mu.
func (m *Memory) lock(sessionID, streamID string) (*memSession, *memStream, error) {
	ms := m.session(sessionID, false)
	if ms == nil {
		return nil, nil, ErrNotFound
	}
	ms.mu.Lock()
	s := ms.streams[streamID]
	if ms.gone || s == nil {
		ms.mu.Unlock()
		return nil, nil, ErrNotFound
	}
	return ms, s, nil
}

// Create implements Log.
func (m *Memory) Create(_ context.Context, sessionID, streamID string) error {
	if !ValidStreamID(streamID) {
		return ErrBadStreamID
	}
	for {
		ms := m.session(sessionID, true)
		ms.mu.Lock()
		if ms.gone { // lost a race with DeleteSession; start over
			ms.mu.Unlock()
			continue
		}
		err := m.createLocked(ms, streamID)
		ms.mu.Unlock()
		return err
	}
}

func (m *Memory) createLocked(ms *memSession, streamID string) error {
	if _, ok := ms.streams[streamID]; ok {
		return ErrExists
	}
	if len(ms.streams) >= m.limits.MaxStreams {
		victim := ms.oldestCompleteLocked(true)
		if victim == "" {
			victim = ms.oldestCompleteLocked(false)
		}
		if victim == "" {
			return ErrLimit
		}
		ms.deleteLocked(victim)
	}
	ms.nextOrd++
	ms.streams[streamID] = &memStream{ord: ms.nextOrd, first: 1}
	return nil
}

// oldestCompleteLocked returns the oldest complete stream, restricted to
// fully delivered ones when delivered is set, or "".
func (ms *memSession) oldestCompleteLocked(delivered bool) string {
	var id string
	var ord uint64
	for sid, s := range ms.streams {
		if !s.complete || delivered && s.delivered < s.last {
			continue
		}
		if id == "" || s.ord < ord {
			id, ord = sid, s.ord
		}
	}
	return id
}

// deleteLocked removes a stream and wakes its waiters.
func (ms *memSession) deleteLocked(streamID string) {
	s := ms.streams[streamID]
	if s == nil {
		return
	}
	delete(ms.streams, streamID)
	ms.bytes -= s.bytes
	s.events = nil
	s.wakeLocked()
}

// trimBytesLocked evicts fully delivered complete streams, oldest first,
// while the session retains more than MaxSessionBytes.
func (m *Memory) trimBytesLocked(ms *memSession) {
	for ms.bytes > m.limits.MaxSessionBytes {
		victim := ms.oldestCompleteLocked(true)
		if victim == "" {
			return
		}
		ms.deleteLocked(victim)
	}
}

func (s *memStream) wakeLocked() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	if len(s.wakers) > 0 {
		s.wakeWakersLocked()
	}
}

func (s *memStream) pushLocked(ms *memSession, data []byte) uint64 {
	s.last++
	s.events = append(s.events, Event{Seq: s.last, Data: data})
	s.bytes += int64(len(data))
	ms.bytes += int64(len(data))
	return s.last
}

// Append implements Log.
func (m *Memory) Append(_ context.Context, sessionID, streamID string, data []byte) (string, error) {
	if int64(len(data)) > m.limits.MaxBytes {
		return "", ErrTooLarge
	}
	ms, s, err := m.lock(sessionID, streamID)
	if err != nil {
		return "", err
	}
	defer ms.mu.Unlock()
	if s.complete {
		return "", ErrComplete
	}
	// Make room by discarding the oldest events a reader has already been
	// given; never an undelivered one (see the package doc, Bounds).
	size := int64(len(data))
	for (len(s.events)+1 > m.limits.MaxEvents || s.bytes+size > m.limits.MaxBytes) &&
		len(s.events) > 0 && s.events[0].Seq <= s.delivered {
		n := int64(len(s.events[0].Data))
		s.events[0] = Event{} // let the data be collected
		s.events = s.events[1:]
		s.first++
		s.bytes -= n
		ms.bytes -= n
	}
	if len(s.events)+1 > m.limits.MaxEvents || s.bytes+size > m.limits.MaxBytes {
		return "", ErrFull
	}
	seq := s.pushLocked(ms, data)
	s.wakeLocked()
	m.trimBytesLocked(ms)
	return FormatEventID(streamID, seq), nil
}

// Complete implements Log.
func (m *Memory) Complete(_ context.Context, sessionID, streamID string, final ...[]byte) error {
	ms, s, err := m.lock(sessionID, streamID)
	if err != nil {
		return err
	}
	defer ms.mu.Unlock()
	if s.complete {
		return ErrComplete
	}
	for _, d := range final {
		s.pushLocked(ms, d)
	}
	s.complete = true
	s.wakeLocked()
	m.trimBytesLocked(ms)
	return nil
}

// Read implements Log.
func (m *Memory) Read(_ context.Context, sessionID, streamID string, after uint64, max int) (Page, error) {
	ms, s, err := m.lock(sessionID, streamID)
	if err != nil {
		return Page{}, err
	}
	defer ms.mu.Unlock()
	switch {
	case after > s.last:
		return Page{}, ErrUnknownEvent
	case after+1 < s.first:
		return Page{}, ErrTrimmed
	}
	avail := s.events[after+1-s.first:]
	if max > 0 && len(avail) > max {
		avail = avail[:max]
	}
	var p Page
	if len(avail) > 0 {
		// Copy the headers: the log zeroes trimmed slots of s.events.
		p.Events = append(make([]Event, 0, len(avail)), avail...)
		if end := avail[len(avail)-1].Seq; end > s.delivered {
			s.delivered = end
		}
	}
	p.Complete = s.complete && (len(avail) == 0 && after == s.last || len(avail) > 0 && avail[len(avail)-1].Seq == s.last)
	return p, nil
}

// Wait implements Log.
func (m *Memory) Wait(ctx context.Context, sessionID, streamID string, after uint64) error {
	for {
		ms, s, err := m.lock(sessionID, streamID)
		if err != nil {
			return err
		}
		if s.last > after || s.complete {
			ms.mu.Unlock()
			return nil
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		ms.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stat implements Log.
func (m *Memory) Stat(_ context.Context, sessionID, streamID string) (Info, error) {
	ms, s, err := m.lock(sessionID, streamID)
	if err != nil {
		return Info{}, err
	}
	defer ms.mu.Unlock()
	return Info{First: s.first, Last: s.last, Delivered: s.delivered, Complete: s.complete}, nil
}

// Delete implements Log. A session left without streams is forgotten.
func (m *Memory) Delete(_ context.Context, sessionID, streamID string) error {
	ms, _, err := m.lock(sessionID, streamID)
	if err != nil {
		return err
	}
	ms.deleteLocked(streamID)
	empty := len(ms.streams) == 0
	ms.mu.Unlock()
	if empty {
		m.mu.Lock() // lock order: m.mu, then ms.mu
		ms.mu.Lock()
		if len(ms.streams) == 0 && m.sessions[sessionID] == ms {
			delete(m.sessions, sessionID)
			ms.gone = true
		}
		ms.mu.Unlock()
		m.mu.Unlock()
	}
	return nil
}

// DeleteSession implements Log.
func (m *Memory) DeleteSession(_ context.Context, sessionID string) error {
	m.mu.Lock()
	ms := m.sessions[sessionID]
	delete(m.sessions, sessionID)
	m.mu.Unlock()
	if ms == nil {
		return nil
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.gone = true
	for id := range ms.streams {
		ms.deleteLocked(id)
	}
	return nil
}

// Sessions reports how many sessions hold streams (for stats and tests).
func (m *Memory) Sessions() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.sessions)
}
