package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// helperEnv makes the test binary run Serve on its stdin/stdout, so tests
// can drive the demo server as a real subprocess.
const helperEnv = "MCPGATE_DEMO_TEST_HELPER"

// waitFor bounds every wait for the server; reaching it fails the test.
const waitFor = 10 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		err := Serve(context.Background(), os.Stdin, os.Stdout, &Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
		if err != nil {
			fmt.Fprintln(os.Stderr, "demo helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if code == 0 {
		if leaked := leakedGoroutines(); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines of package demo still running after the tests:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines returns the stacks of goroutines running package demo
// code, polling for a while so that goroutines in their last steps can end.
func leakedGoroutines() string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "internal/demo.") && !strings.Contains(g, "demo.TestMain") &&
				!strings.Contains(g, "demo.leakedGoroutines") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond) // polling for exit, not synchronising
	}
}

// pipeClient drives Serve over io.Pipe pairs, as a stdio client would.
type pipeClient struct {
	t      *testing.T
	stdin  *io.PipeWriter
	served chan error
	cancel context.CancelFunc
	nextID int

	mu         sync.Mutex // guards inbox and eof
	inbox      [][]byte   // lines written by the server, not yet read
	eof        bool       // the server's output ended
	arrived    chan struct{}
	readerDone chan struct{}
}

func startServer(t *testing.T, opts *Options) *pipeClient {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	c := &pipeClient{t: t, stdin: inW, served: make(chan error, 1), cancel: cancel,
		arrived: make(chan struct{}, 1), readerDone: make(chan struct{})}
	go func() {
		err := Serve(ctx, inR, outW, opts)
		outW.Close()
		c.served <- err
	}()
	go c.readOutput(outR)
	t.Cleanup(func() { c.finish() })
	return c
}

func (c *pipeClient) readOutput(r io.Reader) {
	defer close(c.readerDone)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		c.mu.Lock()
		if len(line) > 0 {
			c.inbox = append(c.inbox, line)
		}
		c.eof = err != nil
		c.mu.Unlock()
		select {
		case c.arrived <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// finish closes the server's stdin, waits for Serve to return nil and
// returns the lines not read yet. It is idempotent.
func (c *pipeClient) finish() [][]byte {
	c.t.Helper()
	c.stdin.Close()
	select {
	case err, ok := <-c.served:
		if ok && err != nil {
			c.t.Errorf("Serve = %v after stdin closed, want nil", err)
		}
		if ok {
			close(c.served)
		}
	case <-time.After(waitFor):
		c.t.Errorf("Serve did not return after stdin closed")
		c.cancel()
		<-c.served
	}
	<-c.readerDone
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	rest := c.inbox
	c.inbox = nil
	return rest
}

// nextLine returns the next line the server wrote, failing after waitFor.
func (c *pipeClient) nextLine() []byte {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		c.mu.Lock()
		if len(c.inbox) > 0 {
			line := c.inbox[0]
			c.inbox = c.inbox[1:]
			c.mu.Unlock()
			if line[len(line)-1] != '\n' {
				c.t.Fatalf("server line %q does not end with a newline", line)
			}
			return line
		}
		eof := c.eof
		c.mu.Unlock()
		if eof {
			c.t.Fatalf("server output ended while a message was expected")
		}
		select {
		case <-c.arrived:
		case <-deadline:
			c.t.Fatalf("no message from the server within %v", waitFor)
		}
	}
}

// next returns the next message the server wrote; it must be valid JSON-RPC.
func (c *pipeClient) next() *jsonrpc.Message {
	c.t.Helper()
	line := c.nextLine()
	var m jsonrpc.Message
	if err := json.Unmarshal(line, &m); err != nil {
		c.t.Fatalf("server wrote an invalid message %s: %v", line, err)
	}
	// Error responses to unreadable requests carry id null [JSON-RPC 2.0 §5];
	// everything else must pass the envelope rules.
	if string(m.ID) == "null" && m.Error != nil && m.Result == nil && m.Method == "" {
		return &m
	}
	if err := m.Validate(); err != nil {
		c.t.Fatalf("server wrote an invalid message %s: %v", line, err)
	}
	return &m
}

// send writes one line: a string or []byte as is, anything else as JSON.
func (c *pipeClient) send(v any) {
	c.t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		b = jsonrpc.MustRaw(v)
	}
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		c.t.Fatalf("writing to the server: %v", err)
	}
}

// sendRequest sends a request with a fresh numeric id and returns the id.
func (c *pipeClient) sendRequest(method string, params any) json.RawMessage {
	c.t.Helper()
	c.nextID++
	id := json.RawMessage(strconv.Itoa(c.nextID))
	var raw json.RawMessage
	if params != nil {
		raw = jsonrpc.MustRaw(params)
	}
	c.send(jsonrpc.NewRequest(id, method, raw))
	return id
}

// onRequest answers a server→client request with a result or a *jsonrpc.Error.
type onRequest func(req *jsonrpc.Message) any

// call sends a request and reads until its response. Server requests met on
// the way are answered by answer (a nil answer fails the test); notifications
// are returned in order.
func (c *pipeClient) call(method string, params any, answer onRequest) (*jsonrpc.Message, []*jsonrpc.Message) {
	c.t.Helper()
	id := c.sendRequest(method, params)
	return c.await(id, answer)
}

func (c *pipeClient) await(id json.RawMessage, answer onRequest) (*jsonrpc.Message, []*jsonrpc.Message) {
	c.t.Helper()
	var notes []*jsonrpc.Message
	for {
		m := c.next()
		switch m.Kind() {
		case jsonrpc.KindNotification:
			notes = append(notes, m)
		case jsonrpc.KindRequest:
			if answer == nil {
				c.t.Fatalf("unexpected server request %s %s", m.Method, m.Params)
			}
			c.reply(m, answer(m))
		case jsonrpc.KindResponse:
			if string(m.ID) != string(id) {
				c.t.Fatalf("got a response for id %s while waiting for %s", m.ID, id)
			}
			return m, notes
		}
	}
}

func (c *pipeClient) reply(req *jsonrpc.Message, v any) {
	c.t.Helper()
	if e, ok := v.(*jsonrpc.Error); ok {
		c.send(jsonrpc.NewErrorResponse(req.ID, e))
		return
	}
	c.send(jsonrpc.NewResponse(req.ID, jsonrpc.MustRaw(v)))
}

// mustResult calls method and returns its result, failing on an error response.
func (c *pipeClient) mustResult(method string, params any) json.RawMessage {
	c.t.Helper()
	resp, _ := c.call(method, params, nil)
	if resp.Error != nil {
		c.t.Fatalf("%s: error %d %s", method, resp.Error.Code, resp.Error.Message)
	}
	return resp.Result
}

// initialize runs the handshake with the given version and capabilities.
func (c *pipeClient) initialize(version string, caps any) initializeResult {
	c.t.Helper()
	if caps == nil {
		caps = map[string]any{}
	}
	raw := c.mustResult("initialize", map[string]any{"protocolVersion": version, "capabilities": caps,
		"clientInfo": map[string]string{"name": "demo-test", "version": "1"}})
	c.send(jsonrpc.NewNotification("notifications/initialized", nil))
	var res initializeResult
	if err := json.Unmarshal(raw, &res); err != nil {
		c.t.Fatalf("initialize result %s: %v", raw, err)
	}
	return res
}

// started returns a server after the handshake at version 2025-11-25 with
// sampling, elicitation and roots declared.
func started(t *testing.T, opts *Options) *pipeClient {
	t.Helper()
	c := startServer(t, opts)
	c.initialize("2025-11-25", allCaps)
	return c
}

var allCaps = map[string]any{"sampling": map[string]any{}, "elicitation": map[string]any{}, "roots": map[string]any{"listChanged": true}}

// toolCall calls a tool and decodes its result.
func (c *pipeClient) toolCall(name string, args any, answer onRequest) (toolResult, []*jsonrpc.Message) {
	c.t.Helper()
	params := map[string]any{"name": name}
	if args != nil {
		params["arguments"] = args
	}
	resp, notes := c.call("tools/call", params, answer)
	if resp.Error != nil {
		c.t.Fatalf("tools/call %s: error %d %s", name, resp.Error.Code, resp.Error.Message)
	}
	var res toolResult
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		c.t.Fatalf("tools/call %s result %s: %v", name, resp.Result, err)
	}
	return res, notes
}

// unmarshal decodes raw into a generic value for comparisons.
func unmarshal(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return v
}
