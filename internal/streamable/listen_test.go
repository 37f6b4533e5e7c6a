package streamable

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

// listenCore is the fake core plus a subscriptions/listen that behaves as
// the relay's does: an acknowledgement, then nothing until its context
// ends, and no response.
type listenCore struct{ *mcpsessiontest.FakeCore }

func (c listenCore) HandleRequest(ctx context.Context, cl *relay.Client, msg *jsonrpc.Message, out relay.Stream) *jsonrpc.Message {
	if msg.Method != mcp.MethodSubscriptionsListen {
		return c.FakeCore.HandleRequest(ctx, cl, msg, out)
	}
	_ = out.Send(jsonrpc.NewNotification(mcp.NotificationSubscriptionsAcknowledged, json.RawMessage(`{"notifications":{}}`)))
	<-ctx.Done()
	return nil
}

// TestListenStream checks the transport side of subscriptions/listen
// (docs/protocol-eras.md §4.4 step 5): the acknowledgement is flushed at
// once as SSE, the stream stays open, and shutdown ends it without
// waiting for its deadline.
func TestListenStream(t *testing.T) {
	env := mcpsessiontest.NewEnv(t, &mcpsessiontest.EnvOptions{
		Core: listenCore{mcpsessiontest.NewFakeCore()},
		Hub:  mcpsession.Options{Heartbeat: time.Hour},
	}, func(hub *mcpsession.Hub) http.Handler { return New(hub, nil) })
	hub, srv := env.Hub, env.Srv

	body := `{"jsonrpc":"2.0","id":7,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},` +
		meta(`{}`, "") + `}}`
	resp := send(t.Context(), t, srv, http.MethodPost, modern(mcp.MethodSubscriptionsListen), body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q; want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sr := ssetest.NewReader(resp.Body)
	f, err := sr.Next()
	if err != nil || !strings.Contains(f.Data, mcp.NotificationSubscriptionsAcknowledged) || f.HasID {
		t.Fatalf("first frame %+v, %v; want the acknowledgement without an event id", f, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hub.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown waited for the listen stream to its deadline: %v", err)
	}
	for {
		f, err := sr.Next()
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			t.Fatalf("reading the ended stream: %v", err)
		}
		if f.HasData {
			t.Errorf("frame after the acknowledgement: %q; a listen stream gets no response", f.Data)
		}
	}
}
