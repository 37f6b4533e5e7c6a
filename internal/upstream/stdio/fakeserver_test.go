package stdio

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// serverEnv selects, in a re-executed test binary, the fake MCP server mode
// to run instead of the tests (see TestMain).
const serverEnv = "STDIO_TEST_SERVER"

// Fake server modes.
const (
	modeEcho        = "echo"         // well-behaved; tools echo, block, crash, big, stderr, stderrlong, env
	modeNotify      = "notify"       // echo, and after initialized: a ping, list_changed and roots/list
	modeIgnoreStdin = "ignore-stdin" // does not exit when stdin closes (SIGTERM needed)
	modeIgnoreTerm  = "ignore-term"  // ignores stdin close and SIGTERM (SIGKILL needed)
	modeBadVersion  = "bad-version"  // answers initialize with an unsupported revision
	modeOldVersion  = "old-version"  // answers initialize with 2025-03-26
	modeGarbage     = "garbage"      // writes junk lines around every answer
	modeMute        = "mute"         // never answers anything
	modeGrandchild  = "grandchild"   // echo, plus a grandchild that holds stdout and never exits by itself
	modeSleeper     = "sleeper"      // the grandchild: blocks until killed
	// Era probe modes (probe_test.go).
	modeModern        = "modern"         // answers server/discover; initialize is not found
	modeDiscoverMute  = "discover-mute"  // echo, but never answers server/discover
	modeDiscoverCrash = "discover-crash" // echo, but exits on server/discover
)

// fakeServer is a tiny MCP server speaking newline-delimited JSON-RPC on
// stdin and stdout, written for these tests only.
type fakeServer struct {
	mode string

	mu      sync.Mutex // guards out and blocked
	out     *bufio.Writer
	blocked map[string]bool // raw ids of "block" calls not yet cancelled
}

func runFakeServer(mode string) int {
	if mode == modeSleeper {
		idle()
	}
	if mode == modeIgnoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	fmt.Fprintln(os.Stderr, "fake server starting")
	s := &fakeServer{mode: mode, out: bufio.NewWriter(os.Stdout), blocked: map[string]bool{}}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 4<<20)
	for in.Scan() {
		m, rpcErr := jsonrpc.Decode(in.Bytes())
		if rpcErr != nil {
			fmt.Fprintln(os.Stderr, "fake server: bad input:", rpcErr.Message)
			continue
		}
		s.handle(m)
	}
	if mode == modeIgnoreStdin || mode == modeIgnoreTerm {
		idle()
	}
	return 0
}

// idle blocks until the process is killed. (A bare select{} would trip
// the runtime's deadlock detector once no other goroutine is left.)
func idle() {
	for {
		time.Sleep(time.Hour)
	}
}

func (s *fakeServer) write(m *jsonrpc.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mode == modeGarbage && m.Kind() == jsonrpc.KindResponse {
		s.out.WriteString("this is not json\n")
		s.out.WriteString("[1,2,3]\n")
		s.out.WriteString(`{"jsonrpc":"2.0","id":987654321,"result":{}}` + "\n")
		s.out.WriteString("\n")
		s.out.WriteString(`{"jsonrpc":"2.0","id":` + "\n")
	}
	s.out.Write(jsonrpc.Encode(m))
	s.out.WriteByte('\n')
	s.out.Flush()
}

func (s *fakeServer) notify(method string, params any) {
	s.write(jsonrpc.NewNotification(method, jsonrpc.MustRaw(params)))
}

func (s *fakeServer) handle(m *jsonrpc.Message) {
	if s.mode == modeMute {
		return
	}
	switch {
	case m.Method == mcp.MethodServerDiscover:
		s.discover(m)
	case m.Method == mcp.MethodInitialize && s.mode == modeModern:
		s.write(jsonrpc.NewErrorResponse(m.ID, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found")))
	case m.Kind() == jsonrpc.KindResponse:
		switch string(m.ID) {
		case `"p-1"`:
			s.notify("test/pong", map[string]any{"result": m.Result})
		case `"s-1"`:
			s.notify("test/rootsResult", map[string]any{"result": m.Result})
		}
	case m.Method == mcp.MethodInitialize:
		var p struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		json.Unmarshal(m.Params, &p)
		v := p.ProtocolVersion
		switch s.mode {
		case modeBadVersion:
			v = "1999-01-01"
		case modeOldVersion:
			v = mcp.Version20250326
		}
		s.write(jsonrpc.NewResponse(m.ID, jsonrpc.MustRaw(map[string]any{
			"protocolVersion": v,
			"capabilities":    map[string]any{"tools": map[string]any{"listChanged": true}, "logging": map[string]any{}},
			"serverInfo":      map[string]any{"name": "fake", "version": "1.0"},
			// The params as received, for the test to check.
			"instructions": string(m.Params),
		})))
	case m.Method == mcp.NotificationInitialized:
		switch s.mode {
		case modeNotify:
			s.write(jsonrpc.NewRequest(json.RawMessage(`"p-1"`), mcp.MethodPing, nil))
			s.notify(mcp.NotificationToolsListChanged, map[string]any{})
			s.write(jsonrpc.NewRequest(json.RawMessage(`"s-1"`), mcp.MethodRootsList, json.RawMessage(`{}`)))
		case modeGrandchild:
			exe, _ := os.Executable()
			cmd := exec.Command(exe)
			cmd.Env = []string{serverEnv + "=" + modeSleeper, "GORACE=atexit_sleep_ms=0"}
			cmd.Stdout = os.Stdout // holds the gateway's pipe open
			if err := cmd.Start(); err != nil {
				fmt.Fprintln(os.Stderr, "fake server: starting grandchild:", err)
				return
			}
			s.notify("test/grandchild", map[string]any{"pid": cmd.Process.Pid})
		}
	case m.Method == mcp.NotificationCancelled:
		var p struct {
			RequestID json.RawMessage `json:"requestId"`
			Reason    string          `json:"reason"`
		}
		json.Unmarshal(m.Params, &p)
		s.mu.Lock()
		was := s.blocked[string(p.RequestID)]
		delete(s.blocked, string(p.RequestID))
		s.mu.Unlock()
		if was {
			s.notify("test/cancelled", map[string]any{"requestId": p.RequestID, "reason": p.Reason})
		}
	case m.Method == mcp.MethodToolsCall:
		go s.callTool(m) // concurrently, so answers come out of order
	case m.IsRequest():
		s.write(jsonrpc.NewErrorResponse(m.ID, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found")))
	}
}

func (s *fakeServer) callTool(m *jsonrpc.Message) {
	var p struct {
		Name      string `json:"name"`
		Arguments struct {
			Text string `json:"text"`
			Size int    `json:"size"`
		} `json:"arguments"`
	}
	json.Unmarshal(m.Params, &p)
	text := p.Arguments.Text
	switch p.Name {
	case "echo":
	case "block":
		s.mu.Lock()
		s.blocked[string(m.ID)] = true
		s.mu.Unlock()
		s.notify("test/blocked", map[string]any{"id": m.ID})
		return // answered never; cancelled maybe
	case "crash":
		os.Exit(3)
	case "big":
		text = strings.Repeat("x", p.Arguments.Size)
	case "stderr":
		fmt.Fprintln(os.Stderr, text)
	case "stderrlong":
		fmt.Fprintln(os.Stderr, strings.Repeat("y", 3*maxStderrLine))
		fmt.Fprintln(os.Stderr, "after-long")
	case "env":
		text = strings.Join(os.Environ(), "\n")
	case "params":
		text = string(m.Params)
	default:
		s.write(jsonrpc.NewErrorResponse(m.ID, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "unknown tool")))
		return
	}
	s.write(jsonrpc.NewResponse(m.ID, jsonrpc.MustRaw(map[string]any{
		"content": []map[string]any{{"type": "text", "text": text}},
	})))
}

func (s *fakeServer) discover(m *jsonrpc.Message) {
	switch s.mode {
	case modeDiscoverMute:
		return
	case modeDiscoverCrash:
		os.Exit(4)
	case modeModern:
	default:
		s.write(jsonrpc.NewErrorResponse(m.ID, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found")))
		return
	}
	s.write(jsonrpc.NewResponse(m.ID, jsonrpc.MustRaw(map[string]any{
		"supportedVersions": []string{"2026-07-28"},
		"capabilities":      map[string]any{"tools": map[string]any{"listChanged": true}},
		"instructions":      string(m.Params), // the params as received, for the test
		"resultType":        "complete",
		"_meta":             map[string]any{mcp.MetaServerInfo: map[string]string{"name": "fake-modern", "version": "1.0"}},
	})))
}
