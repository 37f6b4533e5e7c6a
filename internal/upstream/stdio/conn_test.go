package stdio

import (
	gocmp "cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// toolCall calls tool name with arguments args and returns the text of its
// result.
func toolCall(ctx context.Context, c *Conn, name string, args map[string]any) (string, *jsonrpc.Message, error) {
	params := jsonrpc.MustRaw(map[string]any{"name": name, "arguments": args})
	m, err := c.Call(ctx, mcp.MethodToolsCall, params)
	if err != nil {
		return "", nil, err
	}
	if m.Error != nil {
		return "", m, m.Error
	}
	var r struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(m.Result, &r); err != nil || len(r.Content) != 1 {
		return "", m, fmt.Errorf("bad result %s: %v", m.Result, err)
	}
	return r.Content[0].Text, m, nil
}

func TestInitialize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		mode        string
		ask         string
		wantVersion string
	}{
		{"latest", modeEcho, "", mcp.Latest},
		{"asks older", modeEcho, mcp.Version20250618, mcp.Version20250618},
		{"server answers older", modeOldVersion, "", mcp.Version20250326},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := testOptions(t, tt.mode)
			opts.ProtocolVersion = tt.ask
			h := newHarness(t, opts, true)
			info := h.rec.waitReady(t)

			if info.ProtocolVersion != tt.wantVersion {
				t.Errorf("ProtocolVersion = %q, want %q", info.ProtocolVersion, tt.wantVersion)
			}
			if info.Capabilities.Tools == nil || !info.Capabilities.Tools.ListChanged {
				t.Errorf("Capabilities.Tools = %+v, want listChanged", info.Capabilities.Tools)
			}
			if info.Capabilities.Logging == nil || info.Capabilities.Prompts != nil {
				t.Errorf("Capabilities = %+v, want logging and no prompts", info.Capabilities)
			}
			if got, want := string(info.ServerInfo), `{"name":"fake","version":"1.0"}`; got != want {
				t.Errorf("ServerInfo = %s, want %s", got, want)
			}
			if !json.Valid(info.Raw) || !strings.Contains(string(info.Raw), `"serverInfo"`) {
				t.Errorf("Raw = %s, want the whole result", info.Raw)
			}
			if h.c.Info() != info {
				t.Errorf("Info() differs from what UpstreamReady got")
			}

			// The fake server returns the initialize params it got as its
			// instructions.
			var sent struct {
				ProtocolVersion string          `json:"protocolVersion"`
				Capabilities    json.RawMessage `json:"capabilities"`
				ClientInfo      json.RawMessage `json:"clientInfo"`
			}
			if err := json.Unmarshal([]byte(info.Instructions), &sent); err != nil {
				t.Fatalf("initialize params %q: %v", info.Instructions, err)
			}
			wantAsk := gocmp.Or(tt.ask, mcp.Latest)
			if sent.ProtocolVersion != wantAsk {
				t.Errorf("asked protocolVersion %q, want %q", sent.ProtocolVersion, wantAsk)
			}
			if string(sent.Capabilities) != string(DefaultCapabilities) || string(sent.ClientInfo) != string(DefaultClientInfo) {
				t.Errorf("sent capabilities %s, clientInfo %s; want the defaults", sent.Capabilities, sent.ClientInfo)
			}

			st := h.c.Status()
			if st.State != upstream.StateReady || st.PID <= 0 || st.Transport != Transport ||
				st.ProtocolVersion != tt.wantVersion || st.StartedAt.IsZero() || st.Restarts != 0 || st.LastError != "" {
				t.Errorf("Status() = %+v", st)
			}
		})
	}
}

func TestChildEnvironment(t *testing.T) {
	t.Setenv("STDIO_TEST_GATEWAY_SECRET", "hunter2")
	t.Setenv("LANG", "C.UTF-8")
	opts := testOptions(t, modeEcho)
	opts.Env["EXTRA"] = "value with spaces"
	opts.Env["LANG"] = "fr_FR.UTF-8" // configured wins
	h := newHarness(t, opts, true)
	text, _, err := toolCall(t.Context(), h.c, "env", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	env := map[string]string{}
	for kv := range strings.SplitSeq(text, "\n") {
		k, v, _ := strings.Cut(kv, "=")
		names = append(names, k)
		env[k] = v
	}
	slices.Sort(names)
	allowed := []string{"EXTRA", "GORACE", "HOME", "LANG", "PATH", "TMPDIR", serverEnv}
	for _, n := range names {
		if !slices.Contains(allowed, n) {
			t.Errorf("child has %s in its environment; want only %v", n, allowed)
		}
	}
	if env["EXTRA"] != "value with spaces" || env["LANG"] != "fr_FR.UTF-8" || env["PATH"] == "" {
		t.Errorf("child environment = %v", env)
	}
}

func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions(t, modeEcho), true)
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			want := fmt.Sprintf("call %d", i)
			got, m, err := toolCall(t.Context(), h.c, "echo", map[string]any{"text": want})
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			if got != want {
				t.Errorf("call %d got %q, want %q", i, got, want)
			}
			ids[i] = string(m.ID)
		})
	}
	wg.Wait()
	slices.Sort(ids)
	if len(slices.Compact(ids)) != n {
		t.Errorf("upstream ids not unique: %v", ids)
	}
}

func TestCallCancellation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions(t, modeEcho), true)

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, _, err := toolCall(ctx, h.c, "block", nil)
		errc <- err
	}()
	blocked := h.rec.waitMessage(t, "test/blocked")
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Call error = %v, want context.Canceled", err)
	}
	got := h.rec.waitMessage(t, "test/cancelled")
	var b struct{ ID json.RawMessage }
	var c struct {
		RequestID json.RawMessage `json:"requestId"`
		Reason    string          `json:"reason"`
	}
	json.Unmarshal(blocked.Params, &b)
	json.Unmarshal(got.Params, &c)
	if string(c.RequestID) != string(b.ID) || c.Reason != "request cancelled" {
		t.Errorf("cancelled %s (%q), want %s (\"request cancelled\")", c.RequestID, c.Reason, b.ID)
	}
	// The upstream still serves.
	if text, _, err := toolCall(t.Context(), h.c, "echo", map[string]any{"text": "after"}); err != nil || text != "after" {
		t.Errorf("call after cancel = %q, %v", text, err)
	}
}

func TestServerMessages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions(t, modeNotify), true)

	// The gateway answers the upstream's ping itself [P].
	pong := h.rec.waitMessage(t, "test/pong")
	if got := string(pong.Params); got != `{"result":{}}` {
		t.Errorf("ping answered with %s, want {}", got)
	}
	h.rec.waitMessage(t, mcp.NotificationToolsListChanged)
	req := h.rec.waitMessage(t, mcp.MethodRootsList)
	if !req.IsRequest() || string(req.ID) != `"s-1"` {
		t.Fatalf("roots/list = %+v, want a request with the upstream's id", req)
	}
	if err := h.c.Respond(t.Context(), jsonrpc.NewResponse(json.RawMessage(`"nope"`), json.RawMessage(`{}`))); !errors.Is(err, upstream.ErrUnavailable) {
		t.Errorf("Respond to an unknown id = %v, want ErrUnavailable", err)
	}
	resp := jsonrpc.NewResponse(req.ID, json.RawMessage("{\n  \"roots\": []\n}"))
	if err := h.c.Respond(t.Context(), resp); err != nil {
		t.Fatalf("Respond: %v", err)
	}
	if err := h.c.Respond(t.Context(), resp); !errors.Is(err, upstream.ErrUnavailable) {
		t.Errorf("second Respond = %v, want ErrUnavailable", err)
	}
	got := h.rec.waitMessage(t, "test/rootsResult")
	if want := `{"result":{"roots":[]}}`; string(got.Params) != want {
		t.Errorf("upstream got %s, want %s", got.Params, want)
	}
	if err := h.c.Notify(t.Context(), mcp.NotificationRootsListChanged, nil); err != nil {
		t.Errorf("Notify: %v", err)
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions(t, modeEcho), false)
	if _, err := h.c.Call(t.Context(), mcp.MethodToolsList, nil); !errors.Is(err, upstream.ErrUnavailable) {
		t.Errorf("Call before Start = %v, want ErrUnavailable", err)
	}
	if err := h.c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := h.c.Start(t.Context()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start = %v, want ErrStarted", err)
	}
	if err := h.c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := h.c.Status(); st.State != upstream.StateStopped || st.PID != 0 {
		t.Errorf("Status after Close = %+v", st)
	}
	if _, err := h.c.Call(t.Context(), mcp.MethodToolsList, nil); !errors.Is(err, upstream.ErrUnavailable) {
		t.Errorf("Call after Close = %v, want ErrUnavailable", err)
	}
	if err := h.c.Notify(t.Context(), mcp.NotificationRootsListChanged, nil); !errors.Is(err, upstream.ErrUnavailable) {
		t.Errorf("Notify after Close = %v, want ErrUnavailable", err)
	}
}

func TestGarbageOutput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions(t, modeGarbage), true)
	for i := range 3 {
		want := fmt.Sprint("ok ", i)
		if got, _, err := toolCall(t.Context(), h.c, "echo", map[string]any{"text": want}); err != nil || got != want {
			t.Fatalf("call through garbage = %q, %v", got, err)
		}
	}
	h.log.wait(t, "malformed line", func(r logRecord) bool {
		return r.Msg == "upstream wrote a malformed line; skipped" && r.Attrs["prefix"] == `"this is not json"`
	})
	h.log.wait(t, "unknown id", func(r logRecord) bool {
		return strings.HasPrefix(r.Msg, "upstream response with unknown id") && r.Attrs["id"] == `"987654321"`
	})
	if st := h.c.Status(); st.State != upstream.StateReady || st.Restarts != 0 {
		t.Errorf("garbage restarted the upstream: %+v", st)
	}
}
