//lint:file-ignore SA1019 sampling is deprecated by 2026-07-28 (SEP-2577) but clients and servers of every era still use it; the gateway relays it and these tests prove that.

package demo

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The official Go SDK's client is an independent check of the wire protocol.

// sdkEvents collects what the SDK client's handlers receive.
type sdkEvents struct {
	progress chan *mcp.ProgressNotificationParams
	logs     chan *mcp.LoggingMessageParams
	updated  chan string
}

func newSDKClient(ev *sdkEvents) *mcp.Client {
	return mcp.NewClient(&mcp.Implementation{Name: "sdk-test", Version: "1"}, &mcp.ClientOptions{
		Logger: slog.New(slog.DiscardHandler),
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			prompt := req.Params.Messages[0].Content.(*mcp.TextContent).Text
			return &mcp.CreateMessageResult{Role: "assistant", Model: "m", Content: &mcp.TextContent{Text: "re: " + prompt}}, nil
		},
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"username": "u", "email": "e@example.com"}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			ev.progress <- req.Params
		},
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) { ev.logs <- req.Params },
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			ev.updated <- req.Params.URI
		},
	})
}

// receive returns n values from ch, failing the test after waitFor.
func receive[T any](t *testing.T, ch <-chan T, n int) []T {
	t.Helper()
	var out []T
	deadline := time.After(waitFor)
	for len(out) < n {
		select {
		case v := <-ch:
			out = append(out, v)
		case <-deadline:
			t.Fatalf("received %d of %d notifications within %v", len(out), n, waitFor)
		}
	}
	return out
}

func textOf(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) == 0 {
		t.Fatalf("tool result has no content")
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content[0] is %T, want text", res.Content[0])
	}
	return tc.Text
}

// connectSDK connects a Go SDK client over transport at version ("" for
// the SDK's default) and checks the version negotiated; it returns the
// session, its event channels and the version the exercise should expect.
func connectSDK(t *testing.T, ctx context.Context, transport mcp.Transport, version string) (*mcp.ClientSession, *sdkEvents, string) {
	t.Helper()
	ev := &sdkEvents{progress: make(chan *mcp.ProgressNotificationParams, 16),
		logs: make(chan *mcp.LoggingMessageParams, 16), updated: make(chan string, 4)}
	cs, err := newSDKClient(ev).Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wantVersion := version
	if version == "" {
		wantVersion = "2025-11-25"
	}
	if got := cs.InitializeResult().ProtocolVersion; got != wantVersion {
		t.Errorf("negotiated %q, want %q", got, wantVersion)
	}
	return cs, ev, wantVersion
}

func TestSDKClient(t *testing.T) {
	// "" is the SDK's default: it tries 2026-07-28's server/discover, gets
	// -32601 and falls back to initialize with 2025-11-25.
	for _, version := range []string{"", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"} {
		t.Run("version "+version, func(t *testing.T) {
			ctx := t.Context()
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			served := make(chan error, 1)
			go func() {
				served <- Serve(ctx, inR, outW, &Options{Logger: slog.New(slog.DiscardHandler), StepDelay: time.Millisecond})
				outW.Close()
			}()
			cs, ev, wantVersion := connectSDK(t, ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, version)
			sdkExercise(t, ctx, cs, ev, wantVersion)
			if err := cs.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := <-served; err != nil {
				t.Errorf("Serve = %v after the client closed, want nil", err)
			}
		})
	}
}

func sdkExercise(t *testing.T, ctx context.Context, cs *mcp.ClientSession, ev *sdkEvents, version string) {
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	if !slices.Equal(names, wantToolNames) {
		t.Errorf("tools = %v, want %v", names, wantToolNames)
	}

	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("CallTool %s: %v", name, err)
		}
		return res
	}
	if got := textOf(t, call("echo", map[string]any{"message": "hi"})); got != "Echo: hi" {
		t.Errorf("echo = %q", got)
	}
	if got := textOf(t, call("test_sampling", map[string]any{"prompt": "q"})); got != "LLM response: re: q" {
		t.Errorf("test_sampling = %q", got)
	}
	if version >= "2025-06-18" {
		want := `User response: action=accept, content={"email":"e@example.com","username":"u"}`
		if got := textOf(t, call("test_elicitation", map[string]any{"message": "m"})); got != want {
			t.Errorf("test_elicitation = %q, want %q", got, want)
		}
		if res := call("add", map[string]any{"a": 1, "b": 2}); res.StructuredContent == nil {
			t.Errorf("add in %s has no structuredContent", version)
		}
	}
	if res := call("test_error_handling", nil); !res.IsError {
		t.Errorf("test_error_handling: isError = false")
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "no_such_tool"}); err == nil {
		t.Errorf("calling an unknown tool succeeded, want an error")
	}

	params := &mcp.CallToolParams{Name: "test_tool_with_progress", Arguments: map[string]any{}}
	params.SetProgressToken("tok")
	if got := textOf(t, callParams(t, ctx, cs, params)); got != "tok" {
		t.Errorf("test_tool_with_progress = %q, want tok", got)
	}
	for i, p := range receive(t, ev.progress, 3) {
		if p.ProgressToken != "tok" || p.Progress != float64(50*i) || p.Total != 100 {
			t.Errorf("progress %d = %+v", i, p)
		}
	}

	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatalf("SetLoggingLevel: %v", err)
	}
	call("test_tool_with_logging", nil)
	logs := receive(t, ev.logs, 4) // "Log level set to: info" and the tool's three
	if logs[3].Data != "Tool execution completed" || logs[3].Level != "info" {
		t.Errorf("last log = %+v", logs[3])
	}

	if _, err := cs.ListResources(ctx, nil); err != nil {
		t.Errorf("ListResources: %v", err)
	}
	if _, err := cs.ListResourceTemplates(ctx, nil); err != nil {
		t.Errorf("ListResourceTemplates: %v", err)
	}
	rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://template/7/data"})
	if err != nil || !strings.Contains(rr.Contents[0].Text, `"id":"7"`) {
		t.Errorf("ReadResource = %+v, %v", rr, err)
	}
	if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: watchedResourceURI}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	call("update_watched_resource", nil)
	if got := receive(t, ev.updated, 1); got[0] != watchedResourceURI {
		t.Errorf("updated %v", got)
	}

	if _, err := cs.ListPrompts(ctx, nil); err != nil {
		t.Errorf("ListPrompts: %v", err)
	}
	gp, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "test_prompt_with_arguments", Arguments: map[string]string{"arg1": "a", "arg2": "b"}})
	if err != nil || gp.Messages[0].Content.(*mcp.TextContent).Text != "Prompt with arguments: arg1='a', arg2='b'" {
		t.Errorf("GetPrompt = %+v, %v", gp, err)
	}
	comp, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "test_prompt_with_arguments"},
		Argument: mcp.CompleteParamsArgument{Name: "arg2", Value: "wo"}})
	if err != nil || !slices.Equal(comp.Completion.Values, []string{"world"}) {
		t.Errorf("Complete = %+v, %v", comp, err)
	}
	if err := cs.Ping(ctx, nil); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func callParams(t *testing.T, ctx context.Context, cs *mcp.ClientSession, p *mcp.CallToolParams) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(ctx, p)
	if err != nil {
		t.Fatalf("CallTool %s: %v", p.Name, err)
	}
	return res
}

// helperCommand runs this test binary as the demo server (see TestMain).
func helperCommand(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0])
	// The race detector sleeps 1s at exit by default; not needed here.
	cmd.Env = append(os.Environ(), helperEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	cmd.WaitDelay = waitFor
	return cmd
}

func TestSubprocessWithSDKClient(t *testing.T) {
	ctx := t.Context()
	cmd := helperCommand(ctx)
	ev := &sdkEvents{progress: make(chan *mcp.ProgressNotificationParams, 16),
		logs: make(chan *mcp.LoggingMessageParams, 16), updated: make(chan string, 4)}
	cs, err := newSDKClient(ev).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "from a process"}})
	if err != nil || textOf(t, res) != "Echo: from a process" {
		t.Errorf("echo = %+v, %v", res, err)
	}
	// Closing stdin ends the server, which exits 0 [T §stdio shutdown].
	if err := cs.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
}

func TestSubprocessCrash(t *testing.T) {
	cmd := helperCommand(t.Context())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`+"\n")
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, `"protocolVersion":"2025-11-25"`) {
		t.Fatalf("initialize response %q, %v", line, err)
	}
	io.WriteString(stdin, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n"+
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"crash"}}`+"\n")
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != CrashExitCode {
		t.Errorf("Wait = %v, want exit status %d", err, CrashExitCode)
	}
}
