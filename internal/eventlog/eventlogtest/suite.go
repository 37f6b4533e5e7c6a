// Package eventlogtest is the contract suite every eventlog.Log backend must
// pass (memory now, Redis later): one suite, run against each backend.
package eventlogtest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/eventlog"
)

// Factory returns an empty Log with the given limits, cleaned up by t.
type Factory func(t *testing.T, limits eventlog.Limits) eventlog.Log

// Run runs the contract suite against the backend that newLog builds.
func Run(t *testing.T, newLog Factory) {
	tests := []struct {
		name string
		run  func(t *testing.T, newLog Factory)
	}{
		{"AppendReadComplete", testAppendReadComplete},
		{"Errors", testErrors},
		{"SessionsAreSeparate", testSessionsAreSeparate},
		{"MaxEventsTrimsOnlyDelivered", testMaxEvents},
		{"MaxBytes", testMaxBytes},
		{"FinalEventsExempt", testFinalExempt},
		{"MaxStreamsEvictsCompletedOnly", testMaxStreams},
		{"MaxSessionBytesEvictsDeliveredCompleted", testMaxSessionBytes},
		{"WaitWakes", testWait},
		{"DeleteSession", testDeleteSession},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newLog) })
	}
}

var ctx = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("%s: got error %v, want %v", what, got, want)
	}
}

// data renders a page as "seq=data" pairs, for comparison.
func data(p eventlog.Page) string {
	var b strings.Builder
	for i, e := range p.Events {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d=%s", e.Seq, e.Data)
	}
	if p.Complete {
		b.WriteString(" END")
	}
	return b.String()
}

func read(t *testing.T, l eventlog.Log, sess, stream string, after uint64, max int) string {
	t.Helper()
	p, err := l.Read(ctx, sess, stream, after, max)
	must(t, err)
	return data(p)
}

func testAppendReadComplete(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{})
	must(t, l.Create(ctx, "s1", "st"))
	for i, want := range []string{"st.1", "st.2"} {
		id, err := l.Append(ctx, "s1", "st", fmt.Appendf(nil, "m%d", i+1))
		must(t, err)
		if id != want {
			t.Errorf("Append %d: got ID %q, want %q", i, id, want)
		}
	}
	if got, want := read(t, l, "s1", "st", 0, 0), "1=m1 2=m2"; got != want {
		t.Errorf("Read(0): got %q, want %q", got, want)
	}
	if got, want := read(t, l, "s1", "st", 1, 0), "2=m2"; got != want {
		t.Errorf("Read(1): got %q, want %q", got, want)
	}
	if got, want := read(t, l, "s1", "st", 0, 1), "1=m1"; got != want {
		t.Errorf("Read(0, max 1): got %q, want %q", got, want)
	}
	if got, want := read(t, l, "s1", "st", 2, 0), ""; got != want {
		t.Errorf("Read(2) of a live stream: got %q, want %q", got, want)
	}
	must(t, l.Complete(ctx, "s1", "st", []byte("r1"), []byte("r2")))
	if got, want := read(t, l, "s1", "st", 1, 0), "2=m2 3=r1 4=r2 END"; got != want {
		t.Errorf("Read(1) after Complete: got %q, want %q", got, want)
	}
	if got, want := read(t, l, "s1", "st", 1, 2), "2=m2 3=r1"; got != want {
		t.Errorf("Read(1, max 2) after Complete: got %q, want %q (not the end yet)", got, want)
	}
	if got, want := read(t, l, "s1", "st", 4, 0), " END"; got != want {
		t.Errorf("Read(4) at the end: got %q, want %q", got, want)
	}
	info, err := l.Stat(ctx, "s1", "st")
	must(t, err)
	if want := (eventlog.Info{First: 1, Last: 4, Delivered: 4, Complete: true}); info != want {
		t.Errorf("Stat: got %+v, want %+v", info, want)
	}
	_, err = l.Append(ctx, "s1", "st", []byte("late"))
	wantErr(t, "Append after Complete", err, eventlog.ErrComplete)
	wantErr(t, "Complete twice", l.Complete(ctx, "s1", "st"), eventlog.ErrComplete)
}

func testErrors(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{})
	_, err := l.Append(ctx, "nosuch", "st", []byte("x"))
	wantErr(t, "Append to unknown session", err, eventlog.ErrNotFound)
	must(t, l.Create(ctx, "s1", "st"))
	wantErr(t, "Create twice", l.Create(ctx, "s1", "st"), eventlog.ErrExists)
	wantErr(t, "Create with an invalid stream ID", l.Create(ctx, "s1", "bad id"), eventlog.ErrBadStreamID)
	_, err = l.Read(ctx, "s1", "other", 0, 0)
	wantErr(t, "Read of unknown stream", err, eventlog.ErrNotFound)
	_, err = l.Read(ctx, "s1", "st", 1, 0)
	wantErr(t, "Read beyond the last event", err, eventlog.ErrUnknownEvent)
	wantErr(t, "Wait on unknown stream", l.Wait(ctx, "s1", "other", 0), eventlog.ErrNotFound)
	wantErr(t, "Complete unknown stream", l.Complete(ctx, "s1", "other"), eventlog.ErrNotFound)
	must(t, l.Delete(ctx, "s1", "st"))
	wantErr(t, "Delete twice", l.Delete(ctx, "s1", "st"), eventlog.ErrNotFound)
	_, err = l.Stat(ctx, "s1", "st")
	wantErr(t, "Stat after Delete", err, eventlog.ErrNotFound)
}

func testSessionsAreSeparate(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{})
	must(t, l.Create(ctx, "a", "st"))
	must(t, l.Create(ctx, "b", "st"))
	_, err := l.Append(ctx, "a", "st", []byte("for a"))
	must(t, err)
	if got := read(t, l, "b", "st", 0, 0); got != "" {
		t.Errorf("session b sees %q from session a", got)
	}
	must(t, l.DeleteSession(ctx, "a"))
	_, err = l.Append(ctx, "b", "st", []byte("for b"))
	must(t, err)
}

func testMaxEvents(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{MaxEvents: 3})
	must(t, l.Create(ctx, "s", "st"))
	for i := range 3 {
		_, err := l.Append(ctx, "s", "st", fmt.Appendf(nil, "m%d", i+1))
		must(t, err)
	}
	_, err := l.Append(ctx, "s", "st", []byte("m4"))
	wantErr(t, "Append to a stream full of undelivered events", err, eventlog.ErrFull)
	if got, want := read(t, l, "s", "st", 0, 2), "1=m1 2=m2"; got != want {
		t.Fatalf("Read: got %q, want %q", got, want)
	}
	for _, m := range []string{"m4", "m5"} {
		_, err := l.Append(ctx, "s", "st", []byte(m))
		must(t, err)
	}
	_, err = l.Append(ctx, "s", "st", []byte("m6"))
	wantErr(t, "Append when only undelivered events remain", err, eventlog.ErrFull)
	_, err = l.Read(ctx, "s", "st", 0, 0)
	wantErr(t, "Read from a trimmed position", err, eventlog.ErrTrimmed)
	if got, want := read(t, l, "s", "st", 2, 0), "3=m3 4=m4 5=m5"; got != want {
		t.Errorf("Read(2): got %q, want %q", got, want)
	}
	info, err := l.Stat(ctx, "s", "st")
	must(t, err)
	if want := (eventlog.Info{First: 3, Last: 5, Delivered: 5}); info != want {
		t.Errorf("Stat: got %+v, want %+v", info, want)
	}
}

func testMaxBytes(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{MaxBytes: 10})
	must(t, l.Create(ctx, "s", "st"))
	_, err := l.Append(ctx, "s", "st", make([]byte, 11))
	wantErr(t, "Append of an event over MaxBytes", err, eventlog.ErrTooLarge)
	_, err = l.Append(ctx, "s", "st", make([]byte, 6))
	must(t, err)
	_, err = l.Append(ctx, "s", "st", make([]byte, 6))
	wantErr(t, "Append over MaxBytes", err, eventlog.ErrFull)
	read(t, l, "s", "st", 0, 0)
	_, err = l.Append(ctx, "s", "st", make([]byte, 6))
	must(t, err)
}

func testFinalExempt(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{MaxEvents: 1, MaxBytes: 4})
	must(t, l.Create(ctx, "s", "st"))
	_, err := l.Append(ctx, "s", "st", []byte("note"))
	must(t, err)
	must(t, l.Complete(ctx, "s", "st", []byte("a big final response"), []byte("another")))
	if got, want := read(t, l, "s", "st", 0, 0), "1=note 2=a big final response 3=another END"; got != want {
		t.Errorf("Read: got %q, want %q", got, want)
	}
}

func testMaxStreams(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{MaxStreams: 3})
	for _, st := range []string{"a", "b", "c"} {
		must(t, l.Create(ctx, "s", st))
	}
	wantErr(t, "Create with all streams live", l.Create(ctx, "s", "d"), eventlog.ErrLimit)
	// a: complete, undelivered; b: complete, delivered. b goes first.
	must(t, l.Complete(ctx, "s", "a", []byte("ra")))
	must(t, l.Complete(ctx, "s", "b", []byte("rb")))
	read(t, l, "s", "b", 0, 0)
	must(t, l.Create(ctx, "s", "d"))
	_, err := l.Stat(ctx, "s", "b")
	wantErr(t, "Stat of the evicted delivered stream", err, eventlog.ErrNotFound)
	must(t, l.Create(ctx, "s", "e"))
	_, err = l.Stat(ctx, "s", "a")
	wantErr(t, "Stat of the evicted undelivered stream", err, eventlog.ErrNotFound)
	wantErr(t, "Create with c, d, e live", l.Create(ctx, "s", "f"), eventlog.ErrLimit)
	for _, st := range []string{"c", "d", "e"} {
		if _, err := l.Stat(ctx, "s", st); err != nil {
			t.Errorf("live stream %s: %v", st, err)
		}
	}
}

func testMaxSessionBytes(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{MaxSessionBytes: 10})
	for _, st := range []string{"a", "b", "live"} {
		must(t, l.Create(ctx, "s", st))
	}
	must(t, l.Complete(ctx, "s", "a", []byte("123456")))
	read(t, l, "s", "a", 0, 0)
	must(t, l.Complete(ctx, "s", "b", []byte("123456"))) // 12 bytes > 10: a goes
	if _, err := l.Stat(ctx, "s", "a"); !errors.Is(err, eventlog.ErrNotFound) {
		t.Errorf("delivered complete stream a survived the byte bound: %v", err)
	}
	_, err := l.Append(ctx, "s", "live", []byte("1234567"))
	must(t, err)
	if _, err := l.Stat(ctx, "s", "b"); err != nil {
		t.Errorf("undelivered stream b was evicted by the byte bound: %v", err)
	}
}

func testWait(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{})
	must(t, l.Create(ctx, "s", "st"))
	start := func(after uint64) <-chan error {
		done := make(chan error, 1)
		go func() { done <- l.Wait(ctx, "s", "st", after) }()
		return done
	}
	w := start(0)
	_, err := l.Append(ctx, "s", "st", []byte("x"))
	must(t, err)
	must(t, <-w)
	must(t, l.Wait(ctx, "s", "st", 0)) // already satisfied: returns at once

	w = start(1)
	must(t, l.Complete(ctx, "s", "st"))
	must(t, <-w)

	must(t, l.Create(ctx, "s", "st2"))
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, "s", "st2", 0) }()
	must(t, l.Delete(ctx, "s", "st2"))
	wantErr(t, "Wait on a deleted stream", <-done, eventlog.ErrNotFound)

	must(t, l.Create(ctx, "s", "st3"))
	cctx, cancel := context.WithCancel(ctx)
	go func() { done <- l.Wait(cctx, "s", "st3", 0) }()
	cancel()
	wantErr(t, "Wait with a cancelled context", <-done, context.Canceled)
}

func testDeleteSession(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{})
	must(t, l.Create(ctx, "s", "a"))
	must(t, l.Create(ctx, "s", "b"))
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, "s", "a", 0) }()
	must(t, l.DeleteSession(ctx, "s"))
	wantErr(t, "Wait across DeleteSession", <-done, eventlog.ErrNotFound)
	_, err := l.Read(ctx, "s", "b", 0, 0)
	wantErr(t, "Read after DeleteSession", err, eventlog.ErrNotFound)
	must(t, l.DeleteSession(ctx, "s"))
	must(t, l.Create(ctx, "s", "a")) // a new session may reuse nothing but works
}

func testConcurrent(t *testing.T, newLog Factory) {
	l := newLog(t, eventlog.Limits{MaxEvents: 8})
	const writers, perWriter = 4, 200
	var wg sync.WaitGroup
	for w := range writers {
		stream := fmt.Sprintf("w%d", w)
		must(t, l.Create(ctx, "s", stream))
		wg.Go(func() {
			for i := range perWriter {
				for {
					_, err := l.Append(ctx, "s", stream, fmt.Appendf(nil, "%d", i))
					if err == nil {
						break
					}
					if !errors.Is(err, eventlog.ErrFull) {
						t.Errorf("Append: %v", err)
						return
					}
					runtime.Gosched() // full: let the reader take some
				}
			}
			if err := l.Complete(ctx, "s", stream); err != nil {
				t.Errorf("Complete: %v", err)
			}
		})
		wg.Go(func() {
			var after uint64
			for {
				if err := l.Wait(ctx, "s", stream, after); err != nil {
					t.Errorf("Wait: %v", err)
					return
				}
				p, err := l.Read(ctx, "s", stream, after, 0)
				if err != nil {
					t.Errorf("Read: %v", err)
					return
				}
				for _, e := range p.Events {
					if want := fmt.Sprint(e.Seq - 1); string(e.Data) != want {
						t.Errorf("stream %s event %d: got %q, want %q", stream, e.Seq, e.Data, want)
					}
					after = e.Seq
				}
				if p.Complete {
					if after != perWriter {
						t.Errorf("stream %s ended after %d events, want %d", stream, after, perWriter)
					}
					return
				}
			}
		})
	}
	wg.Wait()
}
