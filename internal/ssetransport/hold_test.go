package ssetransport

import (
	"net/http"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/httpfront"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// fastLane serves the env through httpfront with a MaxHold (0: the
// default).
func fastLane(maxHold time.Duration) *envConfig {
	return &envConfig{Front: &httpfront.Options{MaxHold: maxHold}}
}

// postAsync sends p and returns where its answer will come.
func (e *env) postAsync(p post) <-chan result {
	ch := make(chan result, 1)
	go func() {
		// Not e.post: t.Fatal must not run off the test's goroutine.
		ch <- e.postNoFatal(p)
	}()
	return ch
}

// answered waits for a POST's answer; a POST still unanswered after ten
// seconds is held by mistake.
func answered(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the POST is still unanswered after 10 s")
		return result{}
	}
}

// TestHoldUntilAnswered: on the fast lane the 202 to a message waits for
// its call, and the response is on the stream first.
func TestHoldUntilAnswered(t *testing.T) {
	e := newEnv(t, fastLane(time.Hour))
	s := e.initialize(mcp.Version20241105, "")
	done := e.postAsync(post{session: s.session, body: `{"jsonrpc":"2.0","id":1,"method":"gate","params":{"gate":"g","quiet":true}}`})
	<-e.Core.Arrived("g")
	select {
	case r := <-done:
		t.Fatalf("POST answered (%d) while its call runs", r.status)
	default:
	}
	e.Core.Release("g")
	if r := answered(t, done); r.status != http.StatusAccepted || len(r.body) != 0 {
		t.Fatalf("POST: %d %q", r.status, r.body)
	}
	wantJSON(t, "response", s.message(), `{"jsonrpc":"2.0","id":1,"result":{"gate":"g"}}`)
}

// TestHoldMaxHold: a call still running after MaxHold (the default, 2 ms)
// does not keep its 202 waiting.
func TestHoldMaxHold(t *testing.T) {
	e := newEnv(t, fastLane(0))
	s := e.initialize(mcp.Version20241105, "")
	r := answered(t, e.postAsync(post{session: s.session, body: `{"jsonrpc":"2.0","id":1,"method":"gate","params":{"gate":"slow","quiet":true}}`}))
	if r.status != http.StatusAccepted {
		t.Fatalf("POST: %d %q", r.status, r.body)
	}
	if got := e.Core.Result("slow"); got != "" {
		t.Fatalf("the call ended (%s) before the 202; want it still waiting at its gate", got)
	}
	e.Core.Release("slow")
	wantJSON(t, "response", s.message(), `{"jsonrpc":"2.0","id":1,"result":{"gate":"slow"}}`)
}

// TestHoldReleasedToAsk: a call that asks the client something releases
// its POST's 202 first, so a client that sends one message at a time (the
// Python SDK's legacy client) can POST the answer; with MaxHold an hour
// the exchange would otherwise never end.
func TestHoldReleasedToAsk(t *testing.T) {
	e := newEnv(t, fastLane(time.Hour))
	s := e.initialize(mcp.Version20241105, "")
	if r := answered(t, e.postAsync(post{session: s.session, body: `{"jsonrpc":"2.0","id":1,"method":"ask"}`})); r.status != http.StatusAccepted {
		t.Fatalf("ask: %d %q", r.status, r.body)
	}
	wantJSON(t, "question", s.message(), `{"jsonrpc":"2.0","id":"srv-1","method":"sampling/createMessage","params":{"messages":[]}}`)
	if r := answered(t, e.postAsync(post{session: s.session, body: `{"jsonrpc":"2.0","id":"srv-1","result":{"text":"hi"}}`})); r.status != http.StatusAccepted {
		t.Fatalf("answer: %d %q", r.status, r.body)
	}
	wantJSON(t, "response", s.message(), `{"jsonrpc":"2.0","id":1,"result":{"answer":{"text":"hi"}}}`)
}

// TestHoldScripts: the transport's scripts hold on the fast lane as on
// net/http: requests, batches, notifications, errors.
func TestHoldScripts(t *testing.T) {
	e := newEnv(t, fastLane(time.Hour))
	s := e.initialize(mcp.Version20241105, "")
	e.run(s, []step{
		{name: "echo", post: post{session: "$", body: `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1}}`}, wantStatus: 202,
			wantMsgs: []string{`{"jsonrpc":"2.0","id":1,"result":{"echo":{"a":1}}}`}},
		{name: "progress then response", post: post{session: "$", body: `{"jsonrpc":"2.0","id":2,"method":"progress","params":{"n":2}}`}, wantStatus: 202,
			wantMsgs: []string{
				`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`,
				`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":2}}`,
				`{"jsonrpc":"2.0","id":2,"result":{"done":2}}`,
			}},
		{name: "notification", post: post{session: "$", body: `{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`}, wantStatus: 202},
		{name: "unknown method", post: post{session: "$", body: `{"jsonrpc":"2.0","id":3,"method":"nope"}`}, wantStatus: 202,
			wantMsgs: []string{`{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found"}}`}},
		{name: "bad JSON", post: post{session: "$", body: `{`}, wantStatus: 400, wantErr: "parse_error"},
	})
}
