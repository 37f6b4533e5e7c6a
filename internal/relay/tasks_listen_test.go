package relay

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
)

// listenTaskUpstream is a modern upstream offering tasks whose
// subscriptions/listen calls are recorded (their filters) and held until
// cancelled.
func listenTaskUpstream() (m *fakeConn, listens chan string, ended chan string) {
	listens, ended = make(chan string, 8), make(chan string, 8)
	m = taskUpstream("m")
	base := m.serve
	m.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method != mcp.MethodSubscriptionsListen {
			return base(ctx, method, params)
		}
		var p struct {
			Notifications json.RawMessage `json:"notifications"`
		}
		_ = json.Unmarshal(params, &p)
		listens <- string(p.Notifications)
		<-ctx.Done()
		ended <- string(p.Notifications)
		return nil, nil
	}
	return m, listens, ended
}

func recv(t *testing.T, ch chan string, what string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s", what)
		return ""
	}
}

// TestListenTaskNotifications: a 2026-07-28 client's listen following its
// task tokens makes the gateway follow the upstream tasks on one upstream
// listen per task, and relays the upstream's task notifications with the
// client's token and the listen's subscriptionId; other principals' and
// malformed tokens are left out of the acknowledgement; the extension must
// be declared.
func TestListenTaskNotifications(t *testing.T) {
	alice := principal.Principal{Issuer: "static", Subject: "alice"}
	bob := principal.Principal{Issuer: "static", Subject: "bob"}
	tests := []struct {
		name     string
		who      principal.Principal
		declare  bool
		tokens   func(tok string) []string
		method   string // the upstream's notification method
		wantCode int    // the listen's error; 0: acknowledged
		wantAck  func(tok string) string
		wantNote bool // the notification is relayed
	}{
		{name: "follows its task", who: alice, declare: true, tokens: func(tok string) []string { return []string{tok, tok} },
			method: notificationTasks, wantAck: func(tok string) string { return `{"taskIds":["` + tok + `"]}` }, wantNote: true},
		{name: "older notification name", who: alice, declare: true, tokens: func(tok string) []string { return []string{tok} },
			method: notificationTasksStatus, wantAck: func(tok string) string { return `{"taskIds":["` + tok + `"]}` }, wantNote: true},
		{name: "another principal's token", who: bob, declare: true, tokens: func(tok string) []string { return []string{tok} },
			method: notificationTasks, wantAck: func(string) string { return `{}` }},
		{name: "not a token", who: alice, declare: true, tokens: func(string) []string { return []string{"up-m", ""} },
			method: notificationTasks, wantAck: func(string) string { return `{}` }},
		{name: "extension not declared", who: alice, tokens: func(tok string) []string { return []string{tok} },
			wantCode: mcp.CodeMissingClientCapability},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, upListens, upEnded := listenTaskUpstream()
			r := newTestRelay(t, Options{}, m)
			create := r.HandleRequest(context.Background(), statelessTaskClient(alice, true), request(1, mcp.MethodToolsCall, `{"name":"job",`+taskMeta(true)+`}`), newRecStream())
			tok, _, _ := stringMember(create.Result, "taskId")
			if !strings.HasPrefix(tok, taskTokenPrefix) {
				t.Fatalf("CreateTaskResult %s", create.Result)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := newRecStream()
			done := make(chan *jsonrpc.Message, 1)
			filter := jsonrpc.MustRaw(map[string]any{"taskIds": tt.tokens(tok)})
			go func() {
				done <- r.HandleRequest(ctx, statelessTaskClient(tt.who, tt.declare), request(7, mcp.MethodSubscriptionsListen,
					`{"notifications":`+string(filter)+`,`+taskMeta(tt.declare)+`}`), out)
			}()
			if tt.wantCode != 0 {
				resp := <-done
				if resp == nil || resp.Error == nil || resp.Error.Code != tt.wantCode || !strings.Contains(string(resp.Error.Data), mcp.ExtensionTasks) {
					t.Fatalf("listen: %v, want error %d naming the extension", resp, tt.wantCode)
				}
				return
			}
			ack := out.next(t)
			var a struct {
				Notifications json.RawMessage `json:"notifications"`
			}
			if ack.Method != mcp.NotificationSubscriptionsAcknowledged || json.Unmarshal(ack.Params, &a) != nil || string(a.Notifications) != tt.wantAck(tok) {
				t.Fatalf("ack %s %s, want notifications %s", ack.Method, ack.Params, tt.wantAck(tok))
			}
			if !tt.wantNote {
				m.h.UpstreamMessage("m", jsonrpc.NewNotification(tt.method, json.RawMessage(`{"taskId":"up-m","status":"working"}`)))
				select {
				case f := <-upListens:
					t.Errorf("upstream listen %s opened for a refused token", f)
				case n := <-out.ch:
					t.Errorf("listen got %s %s", n.Method, n.Params)
				case <-time.After(50 * time.Millisecond):
				}
				return
			}
			if got := recv(t, upListens, "upstream listen"); got != `{"taskIds":["up-m"]}` {
				t.Errorf("upstream listen filter %s, want the upstream task id", got)
			}
			m.h.UpstreamMessage("m", jsonrpc.NewNotification(tt.method, json.RawMessage(
				`{"taskId":"up-m","status":"completed","result":{"content":[]},"_meta":{"io.modelcontextprotocol/subscriptionId":99,"x":1}}`)))
			n := out.next(t)
			var got map[string]json.RawMessage
			if n.Method != tt.method || json.Unmarshal(n.Params, &got) != nil {
				t.Fatalf("listen got %s %s", n.Method, n.Params)
			}
			if string(got["taskId"]) != `"`+tok+`"` || string(got["status"]) != `"completed"` || string(got["result"]) != `{"content":[]}` ||
				string(got["_meta"]) != `{"io.modelcontextprotocol/subscriptionId":7,"x":1}` {
				t.Errorf("notification %s: want the token, the listen's subscriptionId, the rest kept", n.Params)
			}
			cancel()
			<-done
			if got := recv(t, upEnded, "upstream listen end"); got != `{"taskIds":["up-m"]}` {
				t.Errorf("ended upstream listen %s", got)
			}
		})
	}
}

// TestListenTaskFollowersShareUpstream: two listens following one task
// share one upstream listen, each hears the notification under its own
// token, and the upstream listen ends with the last of them.
func TestListenTaskFollowersShareUpstream(t *testing.T) {
	m, upListens, upEnded := listenTaskUpstream()
	r := newTestRelay(t, Options{}, m)
	alice := principal.Principal{Issuer: "static", Subject: "alice"}
	create := r.HandleRequest(context.Background(), statelessTaskClient(alice, true), request(1, mcp.MethodToolsCall, `{"name":"job",`+taskMeta(true)+`}`), newRecStream())
	tok1, _, _ := stringMember(create.Result, "taskId")
	claims, rpcErr := r.openTaskToken(statelessTaskClient(alice, true), tok1)
	if rpcErr != nil {
		t.Fatal(rpcErr)
	}
	tok2 := r.mrtr.sealer.sealTask(&claims) // the same task under another token
	var wg sync.WaitGroup
	defer wg.Wait()
	open := func(id int, tok string) (*recStream, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		out := newRecStream()
		wg.Go(func() {
			r.HandleRequest(ctx, statelessTaskClient(alice, true), request(id, mcp.MethodSubscriptionsListen,
				`{"notifications":{"taskIds":["`+tok+`"]},`+taskMeta(true)+`}`), out)
		})
		out.next(t) // the acknowledgement
		return out, cancel
	}
	l1, cancel1 := open(11, tok1)
	defer cancel1()
	l2, cancel2 := open(12, tok2)
	defer cancel2()
	recv(t, upListens, "upstream listen")
	m.h.UpstreamMessage("m", jsonrpc.NewNotification(notificationTasks, json.RawMessage(`{"taskId":"up-m","status":"working"}`)))
	for _, c := range []struct {
		out *recStream
		tok string
		id  string
	}{{l1, tok1, "11"}, {l2, tok2, "12"}} {
		n := c.out.next(t)
		if !strings.Contains(string(n.Params), `"taskId":"`+c.tok+`"`) || !strings.Contains(string(n.Params), `"io.modelcontextprotocol/subscriptionId":`+c.id) {
			t.Errorf("listen %s got %s, want its own token and id", c.id, n.Params)
		}
	}
	select {
	case f := <-upListens:
		t.Errorf("a second upstream listen %s was opened", f)
	default:
	}
	cancel1()
	select {
	case <-upEnded:
		t.Error("the upstream listen ended while a follower remains")
	case <-time.After(50 * time.Millisecond):
	}
	cancel2()
	recv(t, upEnded, "upstream listen end")
}
