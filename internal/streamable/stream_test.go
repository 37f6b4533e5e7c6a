package streamable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

// liveResp is an SSE response read frame by frame while it is open.
type liveResp struct {
	t      *testing.T
	resp   *http.Response
	r      *ssetest.Reader
	cancel context.CancelFunc
}

// open sends r and expects an SSE response.
func (e *env) open(r req) *liveResp {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 10*time.Second)
	resp := e.request(ctx, r)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		e.t.Fatalf("%s: status %d, Content-Type %q, body %s; want an SSE stream", r.method, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	l := &liveResp{t: e.t, resp: resp, r: ssetest.NewReader(resp.Body), cancel: cancel}
	e.t.Cleanup(l.close)
	return l
}

// next returns the next frame that is not a heartbeat.
func (l *liveResp) next() ssetest.Frame {
	l.t.Helper()
	for {
		f := l.frame()
		if f.HasData || f.HasID {
			return f
		}
	}
}

// frame returns the next frame, heartbeats included.
func (l *liveResp) frame() ssetest.Frame {
	l.t.Helper()
	f, err := l.r.Next()
	if err != nil {
		l.t.Fatalf("reading SSE: %v", err)
	}
	return f
}

// message returns the next message event's data, checking its framing.
func (l *liveResp) message() (id, data string) {
	l.t.Helper()
	f := l.next()
	if f.Event != "message" || f.Data == "" || !f.HasID {
		l.t.Fatalf("want a message event, got %+v", f)
	}
	return f.ID, f.Data
}

// end expects the server to end the stream.
func (l *liveResp) end() {
	l.t.Helper()
	for {
		f, err := l.r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			l.t.Fatalf("want the end of the stream, got %v", err)
		}
		if f.HasData || f.HasID {
			l.t.Fatalf("want the end of the stream, got %+v", f)
		}
	}
}

// drain reads to the end of the stream, whatever it carries.
func (l *liveResp) drain() {
	l.t.Helper()
	if _, err := io.Copy(io.Discard, l.resp.Body); err != nil {
		l.t.Fatalf("draining the stream: %v", err)
	}
}

// close drops the connection.
func (l *liveResp) close() {
	l.cancel()
	l.resp.Body.Close()
}

const v1125 = mcp.Version20251125

func gateBody(id int, name string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"gate","params":{"gate":%q}}`, id, name)
}

func gateNote(name string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/message","params":{"gate":%q}}`, name)
}

func gateResult(id int, name string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{"gate":%q}}`, id, name)
}

// TestServerToClientRequest: the core asks the client on the request's
// stream, the client POSTs its answer (202), and the call completes.
func TestServerToClientRequest(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize(v1125, "")
	s := e.open(req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":7,"method":"ask"}`})
	if p := s.next(); p.Data != "" || p.Retry == "" {
		t.Fatalf("want the priming event first, got %+v", p)
	}
	_, data := s.message()
	var ask jsonrpc.Message
	if err := json.Unmarshal([]byte(data), &ask); err != nil || ask.Method != mcp.MethodSamplingCreateMessage {
		t.Fatalf("want a sampling request, got %s", data)
	}
	answer := fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"text":"hi"}}`, ask.ID)
	if r := e.do(req{session: sid, version: v1125, body: answer}); r.status != http.StatusAccepted || len(r.body) != 0 {
		t.Fatalf("client response: status %d body %q, want 202 and no body", r.status, r.body)
	}
	_, data = s.message()
	wantJSON(t, "final response", data, `{"jsonrpc":"2.0","id":7,"result":{"answer":{"text":"hi"}}}`)
	s.end()
}

// TestResumeDroppedPOSTStream: a POST stream is dropped mid-call; the call
// goes on (disconnection is not cancellation); GET with Last-Event-ID
// replays that stream only — not a concurrent POST stream, not the
// standalone stream — and ends after the response.
func TestResumeDroppedPOSTStream(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize(v1125, "")

	a := e.open(req{session: sid, version: v1125, body: gateBody(1, "A")})
	primeA := a.next()
	idA1, data := a.message()
	wantJSON(t, "A's first event", data, gateNote("A"))
	streamA, _, _ := eventlog.ParseEventID(idA1)
	if p, _, _ := eventlog.ParseEventID(primeA.ID); p != streamA {
		t.Fatalf("priming ID %q and event ID %q name different streams", primeA.ID, idA1)
	}
	a.close() // the connection drops

	b := e.open(req{session: sid, version: v1125, body: gateBody(2, "B")})
	b.next()
	idB1, _ := b.message()
	if streamB, _, _ := eventlog.ParseEventID(idB1); streamB == streamA {
		t.Fatalf("two POSTs share stream %q", streamA)
	}
	if r := e.do(req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":3,"method":"standalone"}`}); r.status != 200 {
		t.Fatalf("standalone: %d", r.status)
	}
	e.Core.Release("A")

	// Resume from A's first event: only A's response follows.
	g := e.open(req{method: "GET", session: sid, version: v1125, lastEventID: idA1})
	if p := g.next(); p.ID != idA1 || p.Data != "" || p.Retry == "" {
		t.Fatalf("resumed stream: want priming at %s, got %+v", idA1, p)
	}
	id, data := g.message()
	wantJSON(t, "replayed response", data, gateResult(1, "A"))
	if s, seq, _ := eventlog.ParseEventID(id); s != streamA || seq != 2 {
		t.Errorf("replayed event ID %q, want %s.2", id, streamA)
	}
	g.end()
	if got := e.Core.Result("A"); got != "released" {
		t.Errorf("call A: %q, want released (not cancelled by the disconnection)", got)
	}

	// Resume from the priming ID: the whole stream again.
	all := e.do(req{method: "GET", session: sid, version: v1125, lastEventID: primeA.ID})
	if diff := jsonDiff(t, []string{gateNote("A"), gateResult(1, "A")}, all.messages(t)); diff != "" {
		t.Errorf("replay from the priming ID (-want +got):\n%s", diff)
	}

	// B was never disturbed.
	e.Core.Release("B")
	_, data = b.message()
	wantJSON(t, "B's response", data, gateResult(2, "B"))
	b.end()
}

// TestResumeTakesOver: a resumption while the old connection is still open
// takes the stream over; each event goes to one connection only. The old
// POST response stays open, silent, until its call returns (the handler
// goroutine runs the call), then ends.
func TestResumeTakesOver(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize(v1125, "")
	a := e.open(req{session: sid, version: v1125, body: gateBody(1, "A")})
	a.next()
	id1, _ := a.message()
	g := e.open(req{method: "GET", session: sid, version: v1125, lastEventID: id1})
	g.next() // priming
	e.Core.Release("A")
	_, data := g.message()
	wantJSON(t, "response on the new connection", data, gateResult(1, "A"))
	g.end()
	a.end() // and nothing more on the old one
}

// TestConcurrentPOSTStreams: several SSE streams of one session at once,
// each with its own messages ([T §Multiple Connections]).
func TestConcurrentPOSTStreams(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize(mcp.Version20250618, "")
	const n = 4
	streams := make([]*liveResp, n)
	for i := range n {
		streams[i] = e.open(req{session: sid, version: mcp.Version20250618, body: gateBody(i, fmt.Sprint(i))})
		_, data := streams[i].message()
		wantJSON(t, "gate notification", data, gateNote(fmt.Sprint(i)))
	}
	var wg sync.WaitGroup
	for i := n - 1; i >= 0; i-- {
		e.Core.Release(fmt.Sprint(i))
		wg.Go(func() {
			_, data := streams[i].message()
			wantJSON(t, "response", data, gateResult(i, fmt.Sprint(i)))
			streams[i].end()
		})
	}
	wg.Wait()
}

// TestGETStandalone: the GET stream carries what the core sends on
// Standalone; a second GET conflicts; resumption replays it; DELETE ends it.
func TestGETStandalone(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize(v1125, "")
	// A message sent before any GET is kept for the first one.
	e.do(req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":1,"method":"standalone"}`})

	g := e.open(req{method: "GET", session: sid, version: v1125})
	if p := g.next(); p.ID != "0.0" || p.Data != "" || p.Retry != "1000" {
		t.Fatalf("want priming event 0.0 with retry, got %+v", p)
	}
	id, data := g.message()
	wantJSON(t, "queued list_changed", data, `{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`)
	if id != "0.1" {
		t.Errorf("event ID %q, want 0.1", id)
	}
	e.do(req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":2,"method":"standalone"}`})
	if id, _ := g.message(); id != "0.2" {
		t.Errorf("event ID %q, want 0.2", id)
	}

	e.run([]step{{name: "second GET", req: req{method: "GET", session: sid, version: v1125}, wantStatus: http.StatusConflict, wantErrCode: codeInvalid}})

	// Resuming the standalone stream takes it over and replays after 0.1.
	r := e.open(req{method: "GET", session: sid, version: v1125, lastEventID: "0.1"})
	r.next()
	g.end()
	if id, _ := r.message(); id != "0.2" {
		t.Errorf("replayed event ID %q, want 0.2", id)
	}
	if r := e.do(req{method: "DELETE", session: sid, version: v1125}); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d", r.status)
	}
	r.end()
	if !e.Core.WasDetached(sid) {
		t.Error("DELETE did not detach the session from the core")
	}
}

// TestStandaloneRefusesResponses: the server MUST NOT send a response on the
// GET stream ([T §Listening for Messages] 4).
func TestStandaloneRefusesResponses(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize(v1125, "")
	c := e.Core.Client(sid)
	if err := c.Standalone.Send(jsonrpc.NewResponse(json.RawMessage(`1`), json.RawMessage(`{}`))); err == nil {
		t.Error("Standalone.Send accepted a response")
	}
}

// TestStandaloneFull: with no GET to drain it, the standalone stream fills
// and Send reports it rather than drop messages silently.
func TestStandaloneFull(t *testing.T) {
	e := newEnv(t, &envConfig{Limits: eventlog.Limits{MaxEvents: 2}})
	sid := e.initialize(v1125, "")
	c := e.Core.Client(sid)
	note := jsonrpc.NewNotification(mcp.NotificationToolsListChanged, nil)
	for range 2 {
		if err := c.Standalone.Send(note); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Standalone.Send(note); !errors.Is(err, eventlog.ErrFull) {
		t.Errorf("Send to a full stream: got %v, want ErrFull", err)
	}
}

// TestHeartbeat: silent streams get ": ping" comments; a slow POST switches
// to SSE after one interval.
func TestHeartbeat(t *testing.T) {
	e := newEnv(t, &envConfig{Hub: mcpsession.Options{Heartbeat: 20 * time.Millisecond}})
	sid := e.initialize(mcp.Version20250618, "")
	g := e.open(req{method: "GET", session: sid, version: mcp.Version20250618})
	if f := g.frame(); len(f.Comments) != 1 || f.Comments[0] != "ping" || f.HasData || f.HasID {
		t.Fatalf("GET: want a ping comment, got %+v", f)
	}
	p := e.open(req{session: sid, version: mcp.Version20250618, body: `{"jsonrpc":"2.0","id":1,"method":"block"}`})
	if f := p.frame(); len(f.Comments) != 1 || f.Comments[0] != "ping" {
		t.Fatalf("POST: want a ping comment, got %+v", f)
	}
	p.frame() // and they keep coming
	// Ending the session cancels the blocked call and ends both streams.
	e.do(req{method: "DELETE", session: sid, version: mcp.Version20250618})
	g.end()
	p.drain()
}

// TestTooManyCalls: a session's calls in flight are bounded (429).
func TestTooManyCalls(t *testing.T) {
	e := newEnv(t, &envConfig{Hub: mcpsession.Options{MaxConcurrentCalls: 1}})
	sid := e.initialize(v1125, "")
	a := e.open(req{session: sid, version: v1125, body: gateBody(1, "A")})
	a.next()
	e.run([]step{{name: "second call", req: req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":2,"method":"echo"}`},
		wantStatus: http.StatusTooManyRequests, wantErrCode: codeInvalid}})
	e.Core.Release("A")
	a.message()
	a.message()
	a.end()
	e.run([]step{{name: "after the call", req: req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":3,"method":"echo"}`}, wantStatus: 200}})
}

// TestStreamLimit: when the event log refuses another stream, a call's
// related messages are refused (Send fails) and its response still goes
// out, as JSON.
func TestStreamLimit(t *testing.T) {
	e := newEnv(t, &envConfig{Limits: eventlog.Limits{MaxStreams: 2}}) // the standalone stream and one call
	sid := e.initialize(v1125, "")
	a := e.open(req{session: sid, version: v1125, body: gateBody(1, "A")})
	a.next()
	e.run([]step{{name: "a call that needs a stream", req: req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":2,"method":"progress","params":{"n":1}}`},
		wantStatus: 200, wantType: "json", wantMsgs: []string{`{"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"sending notification: too many live event streams in session"}}`}}})
	e.Core.Release("A")
	a.message()
	a.message()
	a.end()
}

// countingLog records the streams alive in a Log.
type countingLog struct {
	eventlog.Log
	created chan string // every stream created, if not nil
	mu      sync.Mutex
	live    map[string]bool
}

func (l *countingLog) Create(ctx context.Context, sid, st string) error {
	err := l.Log.Create(ctx, sid, st)
	if err == nil {
		l.mu.Lock()
		l.live[sid+"/"+st] = true
		l.mu.Unlock()
		if l.created != nil {
			l.created <- st
		}
	}
	return err
}

func (l *countingLog) Delete(ctx context.Context, sid, st string) error {
	l.mu.Lock()
	delete(l.live, sid+"/"+st)
	l.mu.Unlock()
	return l.Log.Delete(ctx, sid, st)
}

func (l *countingLog) streams() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for k := range l.live {
		out = append(out, k)
	}
	return out
}

// TestUnresumableStreamsDeleted: a fast call answered as JSON never opens
// a stream; a stream whose client left before learning any event ID is
// deleted when its call ends.
func TestUnresumableStreamsDeleted(t *testing.T) {
	log := &countingLog{Log: eventlog.NewMemory(eventlog.Limits{}), live: map[string]bool{}, created: make(chan string, 16)}
	e := newEnv(t, &envConfig{Events: log, Hub: mcpsession.Options{Heartbeat: 10 * time.Millisecond}})
	sid := e.initialize(mcp.Version20250618, "")
	<-log.created // the standalone stream
	e.do(req{session: sid, version: mcp.Version20250618, body: `{"jsonrpc":"2.0","id":1,"method":"echo"}`})
	if got := log.streams(); len(got) != 1 {
		t.Fatalf("streams after a JSON answer: %v, want only the standalone one", got)
	}

	// A slow call gets a stream after one heartbeat interval; 2025-06-18
	// sends no priming event, so the client leaves without an event ID.
	tailEnded := make(chan struct{}, 1)
	e.h.testHookTailEnded = func() { tailEnded <- struct{}{} }
	p := e.open(req{session: sid, version: mcp.Version20250618, body: `{"jsonrpc":"2.0","id":2,"method":"gate","params":{"gate":"slow","quiet":true}}`})
	<-log.created
	p.close()
	<-tailEnded // the server saw the client leave
	e.Core.Release("slow")
	if err := e.Hub.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := log.streams(); len(got) != 1 || !strings.HasSuffix(got[0], "/0") {
		t.Errorf("streams left: %v, want only the standalone one", got)
	}
}

// TestAnyReplica: two handlers share the session store and the event log,
// as replicas with Redis would. A session created on one is served by the
// other, which attaches a client rebuilt from the record, and a stream
// written on one is resumed on the other.
func TestAnyReplica(t *testing.T) {
	store := session.NewMemoryStore()
	log := eventlog.NewMemory(eventlog.Limits{})
	a := newEnv(t, &envConfig{Store: store, Events: log})
	b := newEnv(t, &envConfig{Store: store, Events: log})
	sid := a.initialize(v1125, "")

	b.run([]step{{name: "request on replica B", req: req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":1,"method":"echo"}`}, wantStatus: 200}})
	c := b.Core.Client(sid)
	if c == nil || !c.Capabilities.Sampling || c.ProtocolVersion != v1125 || string(c.ClientInfo) != `{"name":"test","version":"1"}` {
		t.Fatalf("client attached on B: %+v", c)
	}

	s := a.open(req{session: sid, version: v1125, body: `{"jsonrpc":"2.0","id":2,"method":"progress","params":{"n":1}}`})
	prime := s.next()
	s.message()
	s.message()
	s.end()
	res := b.do(req{method: "GET", session: sid, version: v1125, lastEventID: prime.ID})
	if diff := jsonDiff(t, []string{`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`, `{"jsonrpc":"2.0","id":2,"result":{"done":1}}`}, res.messages(t)); diff != "" {
		t.Errorf("resumed on B (-want +got):\n%s", diff)
	}
}
