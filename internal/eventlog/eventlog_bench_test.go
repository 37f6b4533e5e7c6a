package eventlog

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
)

var benchEvent = []byte(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p-1","progress":1,"total":10}}`)

// BenchmarkAppend appends to a stream a reader keeps up with (so the log
// trims delivered events as it goes), as a live POST or GET stream does.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(Limits{})
	if err := m.Create(ctx, "s", "st"); err != nil {
		b.Fatal(err)
	}
	var after uint64
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		if _, err := m.Append(ctx, "s", "st", benchEvent); err != nil {
			b.Fatal(err)
		}
		p, err := m.Read(ctx, "s", "st", after, 0)
		if err != nil {
			b.Fatal(err)
		}
		after = p.Events[len(p.Events)-1].Seq
	}
}

// BenchmarkReplay reads a stream of 100 retained events from the start,
// as a resumption with Last-Event-ID does.
func BenchmarkReplay(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(Limits{})
	if err := m.Create(ctx, "s", "st"); err != nil {
		b.Fatal(err)
	}
	for range 100 {
		if _, err := m.Append(ctx, "s", "st", benchEvent); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := m.Read(ctx, "s", "st", 0, 0)
		if err != nil || len(p.Events) != 100 {
			b.Fatal(err, len(p.Events))
		}
	}
}

// BenchmarkCallStream is the event log's share of a call whose response
// goes out as SSE: a stream created, its response completed, read, and
// deleted, by many sessions at once.
func BenchmarkCallStream(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(Limits{})
	var sessions atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		sid := strconv.FormatInt(sessions.Add(1), 10)
		if err := m.Create(ctx, sid, "0"); err != nil { // the standalone stream
			b.Fatal(err)
		}
		for pb.Next() {
			st := NewStreamID()
			if err := m.Create(ctx, sid, st); err != nil {
				b.Fatal(err)
			}
			if err := m.Complete(ctx, sid, st, benchEvent); err != nil {
				b.Fatal(err)
			}
			if p, err := m.Read(ctx, sid, st, 0, 0); err != nil || !p.Complete {
				b.Fatal(err, p.Complete)
			}
			if err := m.Delete(ctx, sid, st); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEventID(b *testing.B) {
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = AppendEventID(buf[:0], "Zm9vYmFyYmF6cXV4", 12345)
		if _, _, err := ParseEventID(string(buf)); err != nil {
			b.Fatal(err)
		}
	}
}
