package session

import (
	"context"
	"testing"
)

// BenchmarkLookup is the session work of every request in a session: find
// it by the Mcp-Session-Id header and mark it active, with 10,000 sessions
// held and every CPU looking up at once.
func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	m, ids := benchSessions(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			id := ids[i%len(ids)]
			i += 7919 // a prime: spread over the map
			if _, err := m.Get(ctx, id); err != nil {
				b.Fatal(err)
			}
			if err := m.Touch(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLookupMarkUsed is BenchmarkLookup as the transports now do it:
// MarkUsed writes the store only when LastActive is older than its
// granularity, so a busy session is read, not written.
func BenchmarkLookupMarkUsed(b *testing.B) {
	ctx := context.Background()
	m, ids := benchSessions(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			id := ids[i%len(ids)]
			i += 7919 // a prime: spread over the map
			s, err := m.Get(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.MarkUsed(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateDelete is the session work of a churning client: one
// session created and deleted per tool call.
func BenchmarkCreateDelete(b *testing.B) {
	ctx := context.Background()
	m := NewManager(NewMemoryStore(), Config{})
	b.Cleanup(m.Close)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, err := m.Create(ctx, Session{ProtocolVersion: "2025-11-25", Transport: "streamable"})
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Delete(ctx, s.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchSessions returns a manager holding 10,000 sessions and their IDs.
func benchSessions(b *testing.B) (*Manager, []string) {
	b.Helper()
	m := NewManager(NewMemoryStore(), Config{MaxSessions: 20000})
	b.Cleanup(m.Close)
	ids := make([]string, 10000)
	for i := range ids {
		s, err := m.Create(context.Background(), Session{ProtocolVersion: "2025-11-25", Transport: "streamable"})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = s.ID
	}
	return m, ids
}
