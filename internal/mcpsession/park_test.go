package mcpsession_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

// waitFor polls cond until it holds; parking happens on the server after
// the client has read the stream's first bytes, with nothing to wait on.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronisation
	}
}

func note(text string) *jsonrpc.Message {
	return jsonrpc.NewNotification(mcp.NotificationMessage, jsonrpc.MustRaw(map[string]string{"level": "info", "data": text}))
}

// openStreamable initializes a Streamable HTTP session for user and opens
// its GET stream (with Last-Event-ID when lastID is set).
func (b *both) openStreamable(user, sid, lastID string) (string, *http.Response) {
	b.t.Helper()
	if sid == "" {
		hdr := map[string]string{"Accept": "application/json, text/event-stream", "Content-Type": "application/json", "X-Test-User": user}
		sid = b.do("POST", "/mcp", hdr, initBody(mcp.Version20250618)).Header.Get("Mcp-Session-Id")
	}
	hdr := map[string]string{"Accept": "text/event-stream", "Mcp-Session-Id": sid, "X-Test-User": user}
	if lastID != "" {
		hdr["Last-Event-ID"] = lastID
	}
	g := b.do("GET", "/mcp", hdr, "")
	if g.StatusCode != 200 {
		b.t.Fatalf("GET: %d", g.StatusCode)
	}
	return sid, g
}

// nextMessage returns the next message event's frame.
func nextMessage(t *testing.T, r *ssetest.Reader) ssetest.Frame {
	t.Helper()
	for {
		f, err := r.Next()
		if err != nil {
			t.Fatalf("reading SSE: %v", err)
		}
		if f.Event == "message" && f.Data != "" {
			return f
		}
	}
}

// wantEnd reads r to its end, which must be a clean one (the last chunk:
// io.EOF, not an unexpected EOF).
func wantEnd(t *testing.T, what string, r *ssetest.Reader) {
	t.Helper()
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s: stream ended with %v, want a clean end", what, err)
		}
		if f.Event == "message" {
			t.Fatalf("%s: unexpected message %s", what, f.Data)
		}
	}
}

// TestParkDeliversEvents: idle streams of both transports are parked and
// get their events, in order, Streamable HTTP ones with event IDs.
func TestParkDeliversEvents(t *testing.T) {
	b := newBoth(t)
	alice := b.legacy("alice", "", false)
	_, g := b.openStreamable("bob", "", "")
	bob := ssetest.NewReader(g.Body)
	waitFor(t, "both streams parked", func() bool { return b.hub.Parked() == 2 })

	for i := range 3 {
		msg := note(strings.Repeat("x", i*3000)) // one larger than a pooled buffer's start
		if _, err := b.hub.Broadcast(t.Context(), msg, mcpsession.Filter{}); err != nil {
			t.Fatal(err)
		}
		want := string(jsonrpc.Encode(msg))
		if got := alice.message(); got != want {
			t.Errorf("legacy event %d: got %.60s…, want %.60s…", i, got, want)
		}
		f := nextMessage(t, bob)
		if f.Data != want {
			t.Errorf("streamable event %d: got %.60s…, want %.60s…", i, f.Data, want)
		}
		if !f.HasID || !strings.HasPrefix(f.ID, mcpsession.StandaloneStream+".") {
			t.Errorf("streamable event %d: id %q, want one of stream %s", i, f.ID, mcpsession.StandaloneStream)
		}
	}
	if got := b.hub.Parked(); got != 2 {
		t.Errorf("parked after the events: %d, want 2", got)
	}
}

// TestParkHeartbeat: a parked stream that stays silent gets ": ping".
func TestParkHeartbeat(t *testing.T) {
	b := newBothWith(t, &mcpsession.Options{Heartbeat: 20 * time.Millisecond}, false)
	legacy := b.legacy("alice", "", false)
	_, g := b.openStreamable("bob", "", "")
	waitFor(t, "both streams parked", func() bool { return b.hub.Parked() == 2 })
	for name, r := range map[string]*ssetest.Reader{"legacy": legacy.r, "streamable": ssetest.NewReader(g.Body)} {
		for pings := 0; pings < 2; {
			f, err := r.Next()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if slices.Contains(f.Comments, "ping") {
				pings++
			}
		}
	}
}

// TestParkClientDisconnect: a client closing a parked stream's connection
// is noticed at once: a legacy session ends with its stream, a Streamable
// HTTP session stays.
func TestParkClientDisconnect(t *testing.T) {
	b := newBoth(t)
	legacy := b.legacy("alice", "", false)
	_, g := b.openStreamable("bob", "", "")
	waitFor(t, "both streams parked", func() bool { return b.hub.Parked() == 2 })

	g.Body.Close()
	waitFor(t, "the streamable stream to end", func() bool { return b.hub.Parked() == 1 })
	if st := b.hub.Stats(); st.ByTransport["streamable"] != 1 {
		t.Errorf("the streamable session ended with its GET stream: %+v", st.ByTransport)
	}
	legacy.body.Close() // the legacy client leaves too
	waitFor(t, "the legacy session to end", func() bool { return b.hub.Parked() == 0 && b.hub.Stats().ByTransport["sse"] == 0 })
}

// TestParkEnds: what ends a parked stream ends it cleanly (the last
// chunk): the session's DELETE, a takeover by a resuming GET, Shutdown.
func TestParkEnds(t *testing.T) {
	b := newBoth(t)
	// DELETE.
	sid, g := b.openStreamable("alice", "", "")
	waitFor(t, "stream parked", func() bool { return b.hub.Parked() == 1 })
	if r := b.do("DELETE", "/mcp", map[string]string{"Mcp-Session-Id": sid, "X-Test-User": "alice"}, ""); r.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", r.StatusCode)
	}
	wantEnd(t, "after DELETE", ssetest.NewReader(g.Body))
	waitFor(t, "no stream parked", func() bool { return b.hub.Parked() == 0 })

	// A resuming GET takes the stream over.
	sid, g = b.openStreamable("bob", "", "")
	first := ssetest.NewReader(g.Body)
	waitFor(t, "stream parked", func() bool { return b.hub.Parked() == 1 })
	if _, err := b.hub.Broadcast(t.Context(), note("one"), mcpsession.Filter{}); err != nil {
		t.Fatal(err)
	}
	f := nextMessage(t, first)
	_, g2 := b.openStreamable("bob", sid, f.ID)
	wantEnd(t, "the stream taken over", first)
	second := ssetest.NewReader(g2.Body)
	waitFor(t, "the new stream parked", func() bool { return b.hub.Parked() == 1 })
	if _, err := b.hub.Broadcast(t.Context(), note("two"), mcpsession.Filter{}); err != nil {
		t.Fatal(err)
	}
	if got, want := nextMessage(t, second).Data, string(jsonrpc.Encode(note("two"))); got != want {
		t.Errorf("after the takeover: got %s, want %s", got, want)
	}

	// Shutdown: the standalone stream ends, the legacy one writes what its
	// session was sent, then ends.
	legacy := b.legacy("carol", "", false)
	waitFor(t, "streams parked", func() bool { return b.hub.Parked() == 2 })
	if _, err := b.hub.Broadcast(t.Context(), note("last"), mcpsession.Filter{Transports: []string{"sse"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := b.hub.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if b.hub.Parked() != 0 {
		t.Errorf("parked after Shutdown: %d", b.hub.Parked())
	}
	wantEnd(t, "streamable at Shutdown", second)
	if got, want := legacy.message(), string(jsonrpc.Encode(note("last"))); got != want {
		t.Errorf("legacy at Shutdown: got %s, want %s", got, want)
	}
	wantEnd(t, "legacy at Shutdown", legacy.r)
}

// TestParkNotOn: HTTP/2 streams and a hub with DisableParking stay on
// their handler's goroutine, and deliver all the same.
func TestParkNotOn(t *testing.T) {
	tests := []struct {
		name string
		opts *mcpsession.Options
		h2   bool
	}{
		{"HTTP/2", nil, true},
		{"DisableParking", &mcpsession.Options{DisableParking: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBothWith(t, tt.opts, tt.h2)
			_, g := b.openStreamable("bob", "", "")
			if tt.h2 && g.ProtoMajor != 2 {
				t.Fatalf("protocol %s, want HTTP/2", g.Proto)
			}
			r := ssetest.NewReader(g.Body)
			if _, err := b.hub.Broadcast(t.Context(), note("hello"), mcpsession.Filter{}); err != nil {
				t.Fatal(err)
			}
			if got, want := nextMessage(t, r).Data, string(jsonrpc.Encode(note("hello"))); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
			if got := b.hub.Parked(); got != 0 {
				t.Errorf("parked: %d, want 0", got)
			}
		})
	}
}

// parkedLegacy opens an initialized legacy session whose stream is parked,
// and returns its live record.
func parkedLegacy(t *testing.T) (*both, *client, *mcpsession.Live) {
	t.Helper()
	b := newBoth(t)
	legacy := b.legacy("alice", "", false)
	waitFor(t, "stream parked", func() bool { return b.hub.Parked() == 1 })
	id := strings.TrimPrefix(legacy.endpoint, "/messages?sessionId=")
	s, err := b.hub.Sessions().Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	ls := b.hub.Lookup(t.Context(), s)
	return b, legacy, ls
}

// TestParkAppendWrites: Hub.Append writes to a parked stream from the
// appending goroutine; appends from many goroutines at once, mixed with
// the event log's own appends, all arrive, each once.
func TestParkAppendWrites(t *testing.T) {
	b, legacy, ls := parkedLegacy(t)
	id := ls.ID()

	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				data := jsonrpc.Encode(note(fmt.Sprintf("%d-%d", w, i)))
				var err error
				if i%2 == 0 {
					err = b.hub.Append(t.Context(), ls, mcpsession.StandaloneStream, data)
				} else {
					_, err = b.hub.Events().Append(t.Context(), id, mcpsession.StandaloneStream, data)
				}
				if err != nil {
					t.Errorf("append: %v", err)
				}
			}
		})
	}
	got := map[string]bool{}
	for range writers * each {
		m := legacy.message()
		if got[m] {
			t.Fatalf("message twice: %s", m)
		}
		got[m] = true
	}
	wg.Wait()
	if b.hub.Parked() != 1 {
		t.Errorf("parked: %d, want 1", b.hub.Parked())
	}
}

// TestParkAppendBatches: responses of one session's calls that are ready
// at the same moment leave in one write: Hub.Append lets the others in
// before it writes while calls of the session are in flight. On one P the
// order is the scheduler's own: without the yield, each response is a
// write of its own.
func TestParkAppendBatches(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b, legacy, ls := parkedLegacy(t)

	for round := range 3 {
		const calls = 16
		for range calls {
			if !b.hub.StartCall(ls) {
				t.Fatal("StartCall refused")
			}
		}
		// Each goroutine is a call whose response has come: it counts
		// itself out and appends, as a 2024-11-05 call does.
		ready := make(chan struct{})
		var wg sync.WaitGroup
		for i := range calls {
			wg.Go(func() {
				<-ready
				ls.EndCall()
				data := jsonrpc.Encode(note(fmt.Sprintf("%d-%d", round, i)))
				if err := b.hub.Append(t.Context(), ls, mcpsession.StandaloneStream, data); err != nil {
					t.Errorf("append: %v", err)
				}
			})
		}
		before := b.writes.Load()
		close(ready)
		wg.Wait()
		writes := b.writes.Load() - before
		for range calls {
			legacy.message()
		}
		if writes > 2 {
			t.Errorf("round %d: %d responses ready together took %d writes, want at most 2", round, calls, writes)
		}
	}

	// A lone call's response is written at once, by its own goroutine.
	if !b.hub.StartCall(ls) {
		t.Fatal("StartCall refused")
	}
	ls.EndCall()
	before := b.writes.Load()
	if err := b.hub.Append(t.Context(), ls, mcpsession.StandaloneStream, jsonrpc.Encode(note("lone"))); err != nil {
		t.Fatal(err)
	}
	if got := b.writes.Load() - before; got != 1 {
		t.Errorf("lone response: %d writes before Append returned, want 1", got)
	}
	legacy.message()
}

// TestParkShutdownDeadline: a Shutdown whose context has ended still ends
// every parked stream (closing the connections of those not done) before
// it returns.
func TestParkShutdownDeadline(t *testing.T) {
	b := newBoth(t)
	legacy := b.legacy("alice", "", false)
	_, g := b.openStreamable("bob", "", "")
	waitFor(t, "streams parked", func() bool { return b.hub.Parked() == 2 })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_ = b.hub.Shutdown(ctx)
	if got := b.hub.Parked(); got != 0 {
		t.Fatalf("parked after Shutdown: %d", got)
	}
	for name, r := range map[string]io.Reader{"legacy": legacy.body.(io.Reader), "streamable": g.Body} {
		if _, err := io.ReadAll(r); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: reading to the end: %v", name, err)
		}
	}
}
