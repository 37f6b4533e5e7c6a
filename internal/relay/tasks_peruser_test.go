package relay

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// taskUserConns gives each user a modern connection that makes tasks;
// with ready, the connection reports its Info (declaring the extension)
// through UpstreamReady as a real one does when it starts.
type taskUserConns struct {
	r     *Relay
	ready bool
	mu    sync.Mutex
	conns map[string]*fakeConn
}

func (f *taskUserConns) Acquire(_ context.Context, user string) (upstream.Conn, func(), error) {
	f.mu.Lock()
	c := f.conns[user]
	if c == nil {
		c = taskUpstream("mine")
		if !f.ready {
			c.info = modernInfo() // the extension not known from Info
		}
		h := f.r.UserHandler(user)
		h.Bind(c)
		c.h = h
		f.conns[user] = c
	}
	f.mu.Unlock()
	if f.ready {
		c.h.UpstreamReady("mine", c.info)
	}
	return c, func() {}, nil
}

// TestPerUserTasksDiscover: a per-user modern upstream's tasks are
// advertised in server/discover once one user's connection declared the
// extension (or made a task), never by starting a connection for discover;
// its task tokens route to the user's own connection.
func TestPerUserTasksDiscover(t *testing.T) {
	tests := []struct {
		name  string
		ready bool // the connection's UpstreamReady declares the extension
	}{
		{"declared at ready", true},
		{"learned from a task", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Options{})
			uc := &taskUserConns{r: r, ready: tt.ready, conns: map[string]*fakeConn{}}
			r.Register(Upstream{Name: "mine", PerUser: uc})
			r.Refresh(context.Background())
			defer r.Close()
			alice := principal.Principal{Issuer: "static", Subject: "alice"}
			ctx := context.Background()
			discover := func() bool {
				resp := r.HandleRequest(ctx, statelessTaskClient(alice, true), request(9, mcp.MethodServerDiscover, `{`+taskMeta(true)+`}`), newRecStream())
				if resp == nil || resp.Error != nil {
					t.Fatalf("discover: %v", resp)
				}
				return strings.Contains(string(resp.Result), `"extensions":{"`+mcp.ExtensionTasks+`":{}}`)
			}
			if discover() {
				t.Fatal("discover advertises tasks before any connection declared them")
			}
			uc.mu.Lock()
			started := len(uc.conns)
			uc.mu.Unlock()
			if started != 0 {
				t.Fatalf("discover started %d per-user connections", started)
			}
			resp := r.HandleRequest(ctx, statelessTaskClient(alice, true), request(1, mcp.MethodToolsCall, `{"name":"job",`+taskMeta(true)+`}`), newRecStream())
			if resp == nil || resp.Error != nil {
				t.Fatalf("tools/call: %v", resp)
			}
			tok, _, _ := stringMember(resp.Result, "taskId")
			if !strings.HasPrefix(tok, taskTokenPrefix) {
				t.Fatalf("CreateTaskResult %s: want a gateway task token", resp.Result)
			}
			if !discover() {
				t.Error("discover does not advertise tasks after a user's connection offered them")
			}
			get := r.HandleRequest(ctx, statelessTaskClient(alice, true), request(2, mcp.MethodTasksGet,
				`{"taskId":`+string(jsonrpc.MustRaw(tok))+`,`+taskMeta(true)+`}`), newRecStream())
			var got struct {
				TaskID string `json:"taskId"`
				On     string `json:"on"`
			}
			if get == nil || get.Error != nil || json.Unmarshal(get.Result, &got) != nil || got.TaskID != tok || got.On != "mine" {
				t.Errorf("tasks/get: %v, want the task of alice's connection under the token", get)
			}
		})
	}
}
