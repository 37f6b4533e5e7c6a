package relay

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// askConn is a session-era upstream whose tools ask the client with
// server→client requests, round after round, and answer with what the
// client said: the upstream side of docs/protocol-eras.md §4.3 A.
type askConn struct {
	r      *Relay
	nextID atomic.Int64

	mu      sync.Mutex
	waiting map[string]chan *jsonrpc.Message // by upstream request id
	errors  int                              // error answers received
	// ended receives "ok" or "cancelled" when a tools/call returns.
	ended chan string
	// answered receives the key of each answer received.
	answered chan string
}

type askSpec struct{ key, method string }

// askTools are the tools: rounds of asks made at once.
var askTools = map[string][][]askSpec{
	"ask":   {{{"user_name", mcp.MethodElicitationCreate}}},
	"two":   {{{"a", mcp.MethodElicitationCreate}, {"b", mcp.MethodSamplingCreateMessage}}},
	"steps": {{{"step1", mcp.MethodElicitationCreate}}, {{"step2", mcp.MethodElicitationCreate}}},
	"nokey": {{{"", mcp.MethodSamplingCreateMessage}}},
	"roots": {{{"client_roots", mcp.MethodRootsList}}},
	// hold asks once, then waits for cancellation.
	"hold": {{{"step1", mcp.MethodElicitationCreate}}, nil},
}

func newAskConn() *askConn {
	return &askConn{waiting: map[string]chan *jsonrpc.Message{}, ended: make(chan string, 16), answered: make(chan string, 16)}
}

func (a *askConn) Name() string          { return "a" }
func (a *askConn) State() upstream.State { return upstream.StateReady }
func (a *askConn) Info() *upstream.Info  { return toolsInfo() }
func (a *askConn) Notify(context.Context, string, json.RawMessage) error {
	return nil
}

func (a *askConn) Respond(_ context.Context, msg *jsonrpc.Message) error {
	a.mu.Lock()
	ch := a.waiting[string(msg.ID)]
	delete(a.waiting, string(msg.ID))
	if msg.Error != nil {
		a.errors++
	}
	a.mu.Unlock()
	if ch != nil {
		ch <- msg
	}
	return nil
}

func (a *askConn) errorAnswers() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.errors
}

func (a *askConn) Call(ctx context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error) {
	switch method {
	case mcp.MethodToolsList:
		var tools []map[string]string
		for _, name := range []string{"ask", "hold", "nokey", "roots", "steps", "two"} {
			tools = append(tools, map[string]string{"name": name})
		}
		return jsonrpc.NewResponse(json.RawMessage("1"), jsonrpc.MustRaw(map[string]any{"tools": tools})), nil
	case mcp.MethodToolsCall:
	default:
		return jsonrpc.NewResponse(json.RawMessage("1"), json.RawMessage(`{}`)), nil
	}
	var p struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(params, &p)
	if strings.Contains(string(params), "inputResponses") || strings.Contains(string(params), "requestState") {
		return nil, errBadUpstreamParams
	}
	var text []string
	for _, round := range askTools[p.Name] {
		if round == nil {
			<-ctx.Done()
			a.ended <- "cancelled"
			return nil, ctx.Err()
		}
		chans := make([]chan *jsonrpc.Message, len(round))
		for i, ask := range round {
			id := strconv.Quote("up-" + strconv.FormatInt(a.nextID.Add(1), 10))
			chans[i] = make(chan *jsonrpc.Message, 1)
			a.mu.Lock()
			a.waiting[id] = chans[i]
			a.mu.Unlock()
			params := map[string]any{"message": "?"}
			if ask.key != "" {
				params["_meta"] = map[string]string{mcp.MetaInputKey: ask.key}
			}
			a.r.UpstreamMessage("a", jsonrpc.NewRequest(json.RawMessage(id), ask.method, jsonrpc.MustRaw(params)))
		}
		for i, ch := range chans {
			select {
			case m := <-ch:
				a.answered <- round[i].key
				if m.Error != nil {
					text = append(text, round[i].key+" error")
					continue
				}
				text = append(text, round[i].key+"="+string(m.Result))
			case <-ctx.Done():
				a.ended <- "cancelled"
				return nil, ctx.Err()
			}
		}
	}
	a.ended <- "ok"
	return jsonrpc.NewResponse(json.RawMessage("1"), jsonrpc.MustRaw(map[string]any{
		"content": []any{map[string]string{"type": "text", "text": strings.Join(text, "; ")}}})), nil
}

var errBadUpstreamParams = &jsonrpc.Error{Code: -32602, Message: "the gateway's MRTR members reached the upstream"}

func (a *askConn) waitEnded(t *testing.T) string {
	t.Helper()
	select {
	case s := <-a.ended:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream call did not end")
		return ""
	}
}

func newMRTRRelay(t *testing.T, opts Options) (*Relay, *askConn) {
	t.Helper()
	a := newAskConn()
	r := New(opts)
	a.r = r
	r.Register(Upstream{Conn: a, CallTimeout: 5 * time.Minute})
	r.Refresh(context.Background())
	t.Cleanup(r.Close)
	return r, a
}

const allCaps = `{"sampling":{},"elicitation":{},"roots":{}}`

var clientSeq atomic.Int64

// statelessClient is a 2026-07-28 client of user with clientCapabilities caps.
func statelessClient(user, caps string) *Client {
	if caps == "" {
		caps = allCaps
	}
	return &Client{SessionID: "stateless-t" + strconv.FormatInt(clientSeq.Add(1), 10), Stateless: true,
		Principal:    principal.Principal{Issuer: "test", Subject: user},
		Capabilities: ClientCapabilities{Sampling: true, Elicitation: true, Roots: true, Raw: json.RawMessage(caps)}}
}

// mrtrAnswer is a stateless call's answer, decoded.
type mrtrAnswer struct {
	resp          *jsonrpc.Message
	ResultType    string                     `json:"resultType"`
	InputRequests map[string]json.RawMessage `json:"inputRequests"`
	RequestState  string                     `json:"requestState"`
	Content       []struct {
		Text string `json:"text"`
	} `json:"content"`
}

func (a *mrtrAnswer) keys() []string {
	var ks []string
	for k := range a.InputRequests {
		ks = append(ks, k)
	}
	return sortedStrings(ks)
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func callTool(ctx context.Context, t *testing.T, r *Relay, c *Client, params string) *mrtrAnswer {
	t.Helper()
	resp := r.HandleRequest(ctx, c, request(1, mcp.MethodToolsCall, params), newRecStream())
	a := &mrtrAnswer{resp: resp}
	if resp != nil && resp.Error == nil {
		if err := json.Unmarshal(resp.Result, a); err != nil {
			t.Fatalf("result %s: %v", resp.Result, err)
		}
	}
	return a
}

const (
	elicitOK  = `{"action":"accept","content":{"name":"Alice"}}`
	samplesOK = `{"role":"assistant","content":{"type":"text","text":"Paris"},"model":"m"}`
)

// mrtrStep is one request of a scenario and what it must get.
type mrtrStep struct {
	tool      string
	args      string // arguments; "" means {}
	responses string // inputResponses, raw; "" none
	state     string // "prev": the last token; "tamper": it altered; "first": the first one; "" none
	user      string // "" alice
	caps      string // clientCapabilities; "" all three
	wantKeys  []string
	wantText  []string // substrings of a complete result's text
	wantCode  int
}

func TestMRTR(t *testing.T) {
	tests := []struct {
		name  string
		steps []mrtrStep
		// wantUpstream is how the last upstream call ended: "ok",
		// "cancelled", "ended" (either: its requests were answered with
		// errors and it was cancelled, whichever it saw first), "" not
		// checked.
		wantUpstream   string
		wantUpErrors   int // error answers the upstream got
		wantParkedLeft int
	}{
		{name: "elicitation round trip", steps: []mrtrStep{
			{tool: "ask", wantKeys: []string{"user_name"}},
			{tool: "ask", responses: `{"user_name":` + elicitOK + `}`, state: "prev", wantText: []string{`user_name={"action":"accept"`}},
		}, wantUpstream: "ok"},
		{name: "key from the method without a hint", steps: []mrtrStep{
			{tool: "nokey", wantKeys: []string{"sampling"}},
			{tool: "nokey", responses: `{"sampling":` + samplesOK + `}`, state: "prev", wantText: []string{`"Paris"`}},
		}, wantUpstream: "ok"},
		{name: "roots", steps: []mrtrStep{
			{tool: "roots", wantKeys: []string{"client_roots"}},
			{tool: "roots", responses: `{"client_roots":{"roots":[{"uri":"file:///r"}]}}`, state: "prev", wantText: []string{"file:///r"}},
		}, wantUpstream: "ok"},
		{name: "multi-round with a new token each round", steps: []mrtrStep{
			{tool: "steps", wantKeys: []string{"step1"}},
			{tool: "steps", responses: `{"step1":` + elicitOK + `}`, state: "prev", wantKeys: []string{"step2"}},
			{tool: "steps", responses: `{"step2":` + elicitOK + `}`, state: "prev", wantText: []string{"step1=", "step2="}},
		}, wantUpstream: "ok"},
		{name: "missing keys asked again", steps: []mrtrStep{
			{tool: "two", wantKeys: []string{"a", "b"}},
			{tool: "two", responses: `{"a":` + elicitOK + `}`, state: "prev", wantKeys: []string{"b"}},
			{tool: "two", responses: `{"b":` + samplesOK + `}`, state: "prev", wantText: []string{"a=", "b="}},
		}, wantUpstream: "ok"},
		{name: "unknown keys ignored", steps: []mrtrStep{
			{tool: "two", wantKeys: []string{"a", "b"}},
			{tool: "two", responses: `{"a":` + elicitOK + `,"b":` + samplesOK + `,"zzz":12345}`, state: "prev", wantText: []string{"a=", "b="}},
		}, wantUpstream: "ok"},
		{name: "a fresh call takes its answers from inputResponses", steps: []mrtrStep{
			{tool: "ask", responses: `{"user_name":` + elicitOK + `,"extra":{"x":1}}`, wantText: []string{"user_name="}},
		}, wantUpstream: "ok"},
		{name: "a fresh call with the wrong key is asked", steps: []mrtrStep{
			{tool: "ask", responses: `{"wrong_key":` + elicitOK + `}`, wantKeys: []string{"user_name"}},
		}, wantParkedLeft: 1},
		{name: "arguments re-encoded still match", steps: []mrtrStep{
			{tool: "ask", args: `{"b":1,"a":[true, 2.50]}`, wantKeys: []string{"user_name"}},
			{tool: "ask", args: `{ "a":[true,2.50], "b":1 }`, responses: `{"user_name":` + elicitOK + `}`, state: "prev", wantText: []string{"user_name="}},
		}, wantUpstream: "ok"},
		{name: "a used token starts a fresh call", steps: []mrtrStep{
			{tool: "ask", wantKeys: []string{"user_name"}},
			{tool: "ask", responses: `{"user_name":` + elicitOK + `}`, state: "prev", wantText: []string{"user_name="}},
			{tool: "ask", responses: `{"user_name":` + elicitOK + `}`, state: "first", wantText: []string{"user_name="}},
		}, wantUpstream: "ok"},
		{name: "tampered token", steps: []mrtrStep{
			{tool: "ask", wantKeys: []string{"user_name"}},
			{tool: "ask", responses: `{"user_name":` + elicitOK + `}`, state: "tamper", wantCode: jsonrpc.CodeInvalidParams},
		}, wantParkedLeft: 1},
		{name: "not a token", steps: []mrtrStep{
			{tool: "ask", responses: `{}`, state: "garbage", wantCode: jsonrpc.CodeInvalidParams},
		}},
		{name: "token of another principal", steps: []mrtrStep{
			{tool: "ask", wantKeys: []string{"user_name"}},
			{tool: "ask", user: "mallory", responses: `{"user_name":` + elicitOK + `}`, state: "prev", wantCode: jsonrpc.CodeInvalidParams},
		}, wantParkedLeft: 1},
		{name: "token of another request", steps: []mrtrStep{
			{tool: "ask", args: `{"x":1}`, wantKeys: []string{"user_name"}},
			{tool: "ask", args: `{"x":2}`, responses: `{"user_name":` + elicitOK + `}`, state: "prev", wantCode: jsonrpc.CodeInvalidParams},
		}, wantParkedLeft: 1},
		{name: "token of another tool", steps: []mrtrStep{
			{tool: "ask", wantKeys: []string{"user_name"}},
			{tool: "two", responses: `{"user_name":` + elicitOK + `}`, state: "prev", wantCode: jsonrpc.CodeInvalidParams},
		}, wantParkedLeft: 1},
		{name: "malformed answer", steps: []mrtrStep{
			{tool: "ask", wantKeys: []string{"user_name"}},
			{tool: "ask", responses: `{"user_name":12345}`, state: "prev", wantCode: jsonrpc.CodeInvalidParams},
		}, wantUpstream: "ended", wantUpErrors: 1},
		{name: "malformed sampling answer", steps: []mrtrStep{
			{tool: "nokey", wantKeys: []string{"sampling"}},
			{tool: "nokey", responses: `{"sampling":{"action":"accept"}}`, state: "prev", wantCode: jsonrpc.CodeInvalidParams},
		}, wantUpstream: "ended", wantUpErrors: 1},
		{name: "inputResponses not an object", steps: []mrtrStep{
			{tool: "ask", responses: `null`, wantCode: jsonrpc.CodeInvalidParams},
		}},
		{name: "capability not declared", steps: []mrtrStep{
			{tool: "nokey", caps: `{"elicitation":{}}`, wantCode: mcp.CodeMissingClientCapability},
		}, wantUpstream: "ended", wantUpErrors: 1},
		{name: "capability declared in round 1 only", steps: []mrtrStep{
			{tool: "two", wantKeys: []string{"a", "b"}},
			{tool: "two", caps: `{"elicitation":{}}`, responses: `{"a":` + elicitOK + `}`, state: "prev", wantCode: mcp.CodeMissingClientCapability},
		}, wantUpstream: "ended", wantUpErrors: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, up := newMRTRRelay(t, Options{})
			var tokens []string
			for i, s := range tt.steps {
				params := map[string]json.RawMessage{"name": jsonrpc.MustRaw(s.tool), "arguments": json.RawMessage(`{}`)}
				if s.args != "" {
					params["arguments"] = json.RawMessage(s.args)
				}
				if s.responses != "" {
					params["inputResponses"] = json.RawMessage(s.responses)
				}
				switch s.state {
				case "":
				case "prev":
					params["requestState"] = jsonrpc.MustRaw(tokens[len(tokens)-1])
				case "first":
					params["requestState"] = jsonrpc.MustRaw(tokens[0])
				case "tamper":
					tok := []byte(tokens[len(tokens)-1])
					tok[len(tok)-3] ^= 1
					params["requestState"] = jsonrpc.MustRaw(string(tok))
				default:
					params["requestState"] = jsonrpc.MustRaw(s.state)
				}
				user := s.user
				if user == "" {
					user = "alice"
				}
				got := callTool(t.Context(), t, r, statelessClient(user, s.caps), string(jsonrpc.MustRaw(params)))
				switch {
				case s.wantCode != 0:
					if got.resp.Error == nil || got.resp.Error.Code != s.wantCode {
						t.Fatalf("step %d: got %s, want error %d", i, jsonrpc.Encode(got.resp), s.wantCode)
					}
					if s.wantCode == mcp.CodeMissingClientCapability && !strings.Contains(string(got.resp.Error.Data), `"requiredCapabilities":{"sampling":{}}`) {
						t.Errorf("step %d: -32021 data %s, want requiredCapabilities sampling", i, got.resp.Error.Data)
					}
				case s.wantKeys != nil:
					if got.ResultType != "input_required" || strings.Join(got.keys(), ",") != strings.Join(s.wantKeys, ",") {
						t.Fatalf("step %d: got %s, want input_required with keys %v", i, jsonrpc.Encode(got.resp), s.wantKeys)
					}
					if !strings.HasPrefix(got.RequestState, stateTokenPrefix) {
						t.Fatalf("step %d: requestState %q", i, got.RequestState)
					}
					for _, prev := range tokens {
						if prev == got.RequestState {
							t.Errorf("step %d: requestState repeats an earlier one", i)
						}
					}
					for k, v := range got.InputRequests {
						if strings.Contains(string(v), mcp.MetaInputKey) {
							t.Errorf("step %d: inputRequests[%s] still carries the key hint: %s", i, k, v)
						}
					}
					tokens = append(tokens, got.RequestState)
				default:
					if got.resp.Error != nil || got.ResultType == "input_required" || len(got.Content) != 1 {
						t.Fatalf("step %d: got %s, want a complete result", i, jsonrpc.Encode(got.resp))
					}
					for _, w := range s.wantText {
						if !strings.Contains(got.Content[0].Text, w) {
							t.Errorf("step %d: text %q lacks %q", i, got.Content[0].Text, w)
						}
					}
				}
			}
			if tt.wantUpstream != "" {
				if got := up.waitEnded(t); got != tt.wantUpstream && tt.wantUpstream != "ended" {
					t.Errorf("upstream call ended %q, want %q", got, tt.wantUpstream)
				}
			}
			if got := up.errorAnswers(); got != tt.wantUpErrors {
				t.Errorf("upstream got %d error answers, want %d", got, tt.wantUpErrors)
			}
			if got := r.Parked(); got != tt.wantParkedLeft {
				t.Errorf("parked calls left: %d, want %d", got, tt.wantParkedLeft)
			}
		})
	}
}

// TestMRTRStreamCloseCancels: a client that closes the request's stream
// while its call waits upstream cancels the call (docs/protocol-eras.md
// §4.3 A step 5; [SH26 §Cancellation]).
func TestMRTRStreamCloseCancels(t *testing.T) {
	r, up := newMRTRRelay(t, Options{})
	first := callTool(t.Context(), t, r, statelessClient("alice", ""), `{"name":"hold"}`)
	if first.ResultType != "input_required" {
		t.Fatalf("got %s, want input_required", jsonrpc.Encode(first.resp))
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan *jsonrpc.Message, 1)
	go func() {
		done <- r.HandleRequest(ctx, statelessClient("alice", ""), request(2, mcp.MethodToolsCall,
			`{"name":"hold","inputResponses":{"step1":`+elicitOK+`},"requestState":"`+first.RequestState+`"}`), newRecStream())
	}()
	if k := <-up.answered; k != "step1" { // the retry's answer reached the upstream: the call is attached
		t.Fatalf("answered %q", k)
	}
	cancel()
	if got := up.waitEnded(t); got != "cancelled" {
		t.Errorf("upstream call ended %q, want cancelled", got)
	}
	if resp := <-done; resp != nil {
		t.Errorf("a cancelled request got an answer: %s", jsonrpc.Encode(resp))
	}
	if n := r.Parked(); n != 0 {
		t.Errorf("parked calls: %d, want 0", n)
	}
}

// TestMRTRParkTimeout: with no retry, the upstream's request gets an error
// and the call is cancelled after mrtr.park_timeout; the token expires too.
func TestMRTRParkTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, up := newMRTRRelay(t, Options{MRTR: MRTROptions{ParkTimeout: time.Minute}})
		first := callTool(t.Context(), t, r, statelessClient("alice", ""), `{"name":"ask"}`)
		if first.ResultType != "input_required" {
			t.Fatalf("got %s, want input_required", jsonrpc.Encode(first.resp))
		}
		time.Sleep(time.Minute - time.Second)
		synctest.Wait()
		if n := r.Parked(); n != 1 {
			t.Fatalf("parked calls before the timeout: %d, want 1", n)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := <-up.ended; got != "ok" { // the tool saw an error answer and returned
			t.Errorf("upstream call ended %q", got)
		}
		if n := up.errorAnswers(); n != 1 {
			t.Errorf("upstream error answers: %d, want 1", n)
		}
		if n := r.Parked(); n != 0 {
			t.Errorf("parked calls after the timeout: %d, want 0", n)
		}
		late := callTool(t.Context(), t, r, statelessClient("alice", ""),
			`{"name":"ask","inputResponses":{"user_name":`+elicitOK+`},"requestState":"`+first.RequestState+`"}`)
		if late.resp.Error == nil || late.resp.Error.Code != jsonrpc.CodeInvalidParams || !strings.Contains(late.resp.Error.Message, "expired") {
			t.Errorf("retry after expiry: %s, want -32602 expired", jsonrpc.Encode(late.resp))
		}
	})
}

// TestMRTRParkLimits: parked calls are bounded per principal and in all,
// with a recognisable error; a parked call waiting for its client does not
// make another client's upstream request unattributable.
func TestMRTRParkLimits(t *testing.T) {
	r, _ := newMRTRRelay(t, Options{MRTR: MRTROptions{MaxParked: 2, MaxParkedPerPrincipal: 1}})
	tests := []struct {
		user      string
		wantLimit bool
	}{
		{user: "alice"},
		{user: "alice", wantLimit: true},
		{user: "bob"},
		{user: "carol", wantLimit: true},
	}
	for i, tt := range tests {
		got := callTool(t.Context(), t, r, statelessClient(tt.user, ""), `{"name":"ask"}`)
		switch {
		case tt.wantLimit && (got.resp.Error == nil || !IsParkLimit(got.resp.Error)):
			t.Errorf("call %d (%s): %s, want the park limit error", i, tt.user, jsonrpc.Encode(got.resp))
		case !tt.wantLimit && got.ResultType != "input_required":
			t.Errorf("call %d (%s): %s, want input_required", i, tt.user, jsonrpc.Encode(got.resp))
		}
	}
	if n := r.Parked(); n != 2 {
		t.Errorf("parked calls: %d, want 2", n)
	}
}

func TestStateToken(t *testing.T) {
	s, err := newStateSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newStateSealer([]byte(strings.Repeat("k", 32)))
	claims := stateClaims{replica: [8]byte{1}, parked: [16]byte{2}, principal: principalDigest("p"),
		request: requestDigest("tools/call", json.RawMessage(`{"name":"x","arguments":{"a":1}}`)), expires: time.UnixMilli(1e12)}
	tok := s.seal(&claims)
	got, err := s.open(tok)
	if err != nil || got != claims {
		t.Fatalf("open(seal(c)) = %+v, %v; want %+v", got, err, claims)
	}
	bad := []struct{ name, token string }{
		{"other key", other.seal(&claims)},
		{"no prefix", strings.TrimPrefix(tok, stateTokenPrefix)},
		{"truncated", tok[:len(tok)-4]},
		{"appended", tok + "-TAMPERED"},
		{"not base64", stateTokenPrefix + "!!!!"},
		{"empty", ""},
	}
	for _, tt := range bad {
		if _, err := s.open(tt.token); err == nil {
			t.Errorf("%s: opened", tt.name)
		}
	}
	if _, err := newStateSealer(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}
