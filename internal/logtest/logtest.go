// Package logtest collects logs in tests: a sink that a slog handler on any
// goroutine writes and a test reads, to search what was logged (that a
// secret never was, that an event was). It owns nothing else and is
// imported only by tests.
package logtest

import (
	"bytes"
	"log/slog"
	"sync"
)

// Sink is an in-memory log sink safe for concurrent writers and readers.
// The zero value is ready to use.
type Sink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *Sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Logger returns a JSON logger at debug level writing to s.
func (s *Sink) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
