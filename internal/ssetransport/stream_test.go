package ssetransport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
	"github.com/mcpgate/mcpgate/internal/session"
)

// TestHeartbeat: a silent stream gets ": ping" comments, with headers that
// keep proxies from buffering it.
func TestHeartbeat(t *testing.T) {
	e := newEnv(t, &envConfig{Hub: mcpsession.Options{Heartbeat: 20 * time.Millisecond}})
	s := e.initialize(mcp.Version20241105, "")
	for k, v := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := s.resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for range 2 {
		if f := s.frame(); !f.IsHeartbeat() || f.Comments[0] != "ping" {
			t.Fatalf("want a ping comment, got %+v", f)
		}
	}
	// A message still comes through between heartbeats.
	e.run(s, []step{{name: "ping", post: post{session: "$", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 202,
		wantMsgs: []string{`{"jsonrpc":"2.0","id":1,"result":{}}`}}})
	// The pump counts an event after writing it, so the client may read it
	// first: poll the counters (bounded) rather than race them.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := e.Hub.Stats()
		if st.Sent.Events >= 2 && st.SentByTransport[TransportName].Bytes > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats sent %+v", st.SentByTransport)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDisconnectEndsSession: when the client drops the stream, the session
// ends at once: its calls are cancelled, the core forgets it, its record
// and streams are freed.
func TestDisconnectEndsSession(t *testing.T) {
	log := &notifyingLog{Log: eventlog.NewMemory(eventlog.Limits{}), deleted: make(chan string, 4)}
	e := newEnv(t, &envConfig{Events: log})
	s := e.initialize(mcp.Version20241105, "")
	e.run(s, []step{{name: "slow call", post: post{session: "$", body: `{"jsonrpc":"2.0","id":1,"method":"gate","params":{"gate":"A"}}`}, wantStatus: 202,
		wantMsgs: []string{`{"jsonrpc":"2.0","method":"notifications/message","params":{"gate":"A"}}`}}})
	s.close()
	if got := <-log.deleted; got != s.session { // the session's streams are freed
		t.Errorf("streams deleted for %q, want %q", got, s.session)
	}
	if err := e.Hub.WaitIdle(t.Context()); err != nil { // the call returns once cancelled
		t.Fatal(err)
	}
	if got := e.Core.Result("A"); got != "cancelled" {
		t.Errorf("call after disconnection: %q, want cancelled", got)
	}
	if !e.Core.WasDetached(s.session) {
		t.Error("session not detached")
	}
	if _, err := e.Events.Stat(t.Context(), s.session, mcpsession.StandaloneStream); !errors.Is(err, eventlog.ErrNotFound) {
		t.Errorf("stream after disconnection: %v, want ErrNotFound", err)
	}
	if st := e.Hub.Stats(); st.Sessions != 0 {
		t.Errorf("live sessions: %d", st.Sessions)
	}
}

// notifyingLog reports every DeleteSession.
type notifyingLog struct {
	eventlog.Log
	deleted chan string
}

func (l *notifyingLog) DeleteSession(ctx context.Context, sid string) error {
	err := l.Log.DeleteSession(ctx, sid)
	l.deleted <- sid
	return err
}

// TestShutdown: new streams are refused, a running call finishes and its
// response reaches the stream, then the stream ends cleanly.
func TestShutdown(t *testing.T) {
	e := newEnv(t, nil)
	s := e.initialize(mcp.Version20241105, "")
	e.run(s, []step{{name: "slow call", post: post{session: "$", body: `{"jsonrpc":"2.0","id":1,"method":"gate","params":{"gate":"A"}}`}, wantStatus: 202,
		wantMsgs: []string{`{"jsonrpc":"2.0","method":"notifications/message","params":{"gate":"A"}}`}}})
	done := make(chan error, 1)
	go func() { done <- e.Hub.Shutdown(t.Context()) }()
	<-e.Hub.Closing().Done() // Shutdown has begun
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.Srv.URL+"/sse", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := e.Srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET /sse while shutting down: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.run(s, []step{{name: "new call", post: post{session: "$", body: `{"jsonrpc":"2.0","id":2,"method":"ping"}`}, wantStatus: 503, wantErr: "shutting_down"}})
	e.Core.Release("A")
	wantJSON(t, "drained response", s.message(), `{"jsonrpc":"2.0","id":1,"result":{"gate":"A"}}`)
	s.end()
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestAnyReplica: two hubs share the session store and the event log, as
// replicas with Redis would. The stream is held by A; initialize and calls
// POSTed to B are answered on A's stream.
func TestAnyReplica(t *testing.T) {
	store := session.NewMemoryStore()
	log := eventlog.NewMemory(eventlog.Limits{})
	a := newEnv(t, &envConfig{Store: store, Events: log})
	b := newEnv(t, &envConfig{Store: store, Events: log})
	s := a.open("alice")
	b.run(s, []step{
		{name: "initialize on B", post: post{session: "$", user: "alice", body: initBody(mcp.Version20241105)}, wantStatus: 202,
			wantMsgs: []string{initResult(mcp.Version20241105)}},
		{name: "call on B", post: post{session: "$", user: "alice", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 202,
			wantMsgs: []string{`{"jsonrpc":"2.0","id":1,"result":{}}`}},
		{name: "another principal on B", post: post{session: "$", user: "bob", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 403, wantErr: "forbidden"},
	})
	a.run(s, []step{{name: "call on A", post: post{session: "$", user: "alice", body: `{"jsonrpc":"2.0","id":2,"method":"ping"}`}, wantStatus: 202,
		wantMsgs: []string{`{"jsonrpc":"2.0","id":2,"result":{}}`}}})
	if c := a.Core.Client(s.session); c == nil || c.ProtocolVersion != mcp.Version20241105 {
		t.Errorf("client on A, which holds the stream: %+v", c)
	}
}

// streamRecorder is a ResponseWriter for handlers served without a network
// (inside a synctest bubble): it keeps what was written, safely.
type streamRecorder struct {
	mu     sync.Mutex
	header http.Header
	body   strings.Builder
	status int
}

func (w *streamRecorder) Header() http.Header { return w.header }
func (w *streamRecorder) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status == 0 {
		w.status = code
	}
}
func (w *streamRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.body.Write(p)
}
func (w *streamRecorder) Flush() {}
func (w *streamRecorder) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.body.String()
}

// TestIdleExpiry: a session whose client is listening stays alive (its
// heartbeats touch it); without heartbeats it expires after the idle
// timeout, the reason is logged, and its stream ends.
func TestIdleExpiry(t *testing.T) {
	for _, tt := range []struct {
		name      string
		heartbeat time.Duration
		expires   bool
	}{
		{"heartbeats keep it", 10 * time.Second, false},
		{"silent stream expires", -1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				core := mcpsessiontest.NewFakeCore()
				var hub *mcpsession.Hub
				mgr := session.NewManager(session.NewMemoryStore(), session.Config{
					IdleTimeout: time.Minute,
					OnExpire:    func(s *session.Session, r session.ExpireReason) { hub.SessionExpired(s, r) },
				})
				defer mgr.Close()
				hub = mcpsession.New(core, mgr, eventlog.NewMemory(eventlog.Limits{}), &mcpsession.Options{Heartbeat: tt.heartbeat})
				defer hub.Shutdown(context.Background())
				h := New(hub, nil)

				ctx, stop := context.WithCancel(context.Background())
				defer stop()
				w := &streamRecorder{header: http.Header{}}
				ended := make(chan struct{})
				go func() {
					defer close(ended)
					r := httptest.NewRequestWithContext(ctx, "GET", "/sse", nil)
					r.Header.Set("Accept", "text/event-stream")
					h.Stream().ServeHTTP(w, r)
				}()
				synctest.Wait()
				_, data, _ := strings.Cut(w.String(), "data: ")
				data, _, _ = strings.Cut(data, "\n")
				u, err := url.Parse(data)
				if err != nil || u.Query().Get("sessionId") == "" {
					t.Fatalf("no endpoint event in %q", w.String())
				}
				sid := u.Query().Get("sessionId")

				time.Sleep(3 * time.Minute)
				synctest.Wait()
				select {
				case <-ended:
					if !tt.expires {
						t.Fatal("a listening session's stream ended")
					}
				default:
					if tt.expires {
						t.Fatal("an idle session's stream did not end")
					}
				}
				_, err = mgr.Get(context.Background(), sid)
				if expired := errors.Is(err, session.ErrNotFound); expired != tt.expires {
					t.Errorf("session expired: %v, want %v", expired, tt.expires)
				}
				stop()
				<-ended
			})
		})
	}
}
