// Package demo is the gateway's built-in demo upstream: a stdio MCP server,
// run as `mcpgate demo-server`, that implements the tools, resources and
// prompts of the official conformance suite's reference server plus a few
// tools for exercising the gateway (echo, slow, get_env, crash, …).
//
// It speaks newline-delimited JSON-RPC 2.0 on stdin/stdout (MCP stdio
// transport: one message per line, no embedded newlines, nothing but MCP
// messages on stdout; diagnostics go to the logger, which writes to stderr).
//
// Message flow:
//
//	stdin ──▶ read loop (one goroutine, owned by Serve)
//	            │ initialize, ping, logging/setLevel, resources/(un)subscribe:
//	            │   answered in order, on the read loop
//	            │ every other request: its own goroutine, cancellable by
//	            │   notifications/cancelled; may send server→client requests
//	            │ responses from the client: handed to the waiting goroutine
//	            ▼
//	stdout ◀── send (one mutex; one Write per message line)
//
// `mcpgate demo-server --listen ADDR` serves the same server over
// Streamable HTTP instead, directly, without the gateway (ServeStreamable,
// NewHTTPHandler; httpserve.go lists what it supports): in the session era
// one server per session, each request's progress, log messages and
// server→client requests on its own POST's SSE stream (sendfor.go), other
// messages on the session's GET stream; in the 2026-07-28 era one shared
// server and a POST per request. No resumption and no batches.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/workpool"
)

// Options configures Serve. A nil *Options means all defaults.
type Options struct {
	// Logger receives diagnostics, never protocol traffic. Nil means a text
	// logger on os.Stderr at Info level.
	Logger *slog.Logger
	// ServerVersion is reported as serverInfo.version. Empty means "dev".
	ServerVersion string
	// ClientRequestTimeout bounds each request the server sends to the client
	// (sampling, elicitation, roots); on expiry the server sends
	// notifications/cancelled and the tool reports an error. Zero means 2 minutes.
	ClientRequestTimeout time.Duration
	// StepDelay is the pause between the notifications of
	// test_tool_with_logging and test_tool_with_progress. Zero means 50ms,
	// the conformance suite's value.
	StepDelay time.Duration
	// ReconnectionDelay is how long test_reconnection takes before it
	// answers (the HTTP side decides when to close the stream; over stdio the
	// tool can only be slow). Zero means 300ms.
	ReconnectionDelay time.Duration
	// MaxInFlight caps the requests running at once; a request over the cap
	// gets an internal error at once. Zero means 256.
	MaxInFlight int
	// MaxMessageBytes caps one incoming line; a longer line is discarded and
	// answered with a parse error. Zero means 4 MiB.
	MaxMessageBytes int
	// PageSize is the number of items per page of tools/list, prompts/list,
	// resources/list and resources/templates/list. Zero means one page.
	PageSize int
	// LookupEnv reads variables for the get_env tool (which only reads names
	// starting with MCPGATE_ or DEMO_). Nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)
	// Exit ends the process for the crash tool. Nil means os.Exit. If Exit
	// returns, the crash call never answers.
	Exit func(code int)
	// Era selects the protocol era served: "" (or EraSession) is the
	// session era (initialize; the 2025 conformance fixture), EraModern the
	// 2026-07-28 stateless protocol (era_modern.go).
	Era string
}

// Defaults for the zero values of Options.
const (
	defaultClientRequestTimeout = 2 * time.Minute
	defaultStepDelay            = 50 * time.Millisecond
	defaultReconnectionDelay    = 300 * time.Millisecond
	defaultMaxInFlight          = 256
	defaultMaxMessageBytes      = 4 << 20
)

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if r.ServerVersion == "" {
		r.ServerVersion = "dev"
	}
	if r.ClientRequestTimeout <= 0 {
		r.ClientRequestTimeout = defaultClientRequestTimeout
	}
	if r.StepDelay <= 0 {
		r.StepDelay = defaultStepDelay
	}
	if r.ReconnectionDelay <= 0 {
		r.ReconnectionDelay = defaultReconnectionDelay
	}
	if r.MaxInFlight <= 0 {
		r.MaxInFlight = defaultMaxInFlight
	}
	if r.MaxMessageBytes <= 0 {
		r.MaxMessageBytes = defaultMaxMessageBytes
	}
	if r.LookupEnv == nil {
		r.LookupEnv = os.LookupEnv
	}
	if r.Exit == nil {
		r.Exit = os.Exit
	}
	return r
}

// errLineTooLong reports an incoming line over Options.MaxMessageBytes.
var errLineTooLong = errors.New("message line too long")

// Serve runs the demo server on in and out until in ends (the client closed
// stdin: Serve returns nil), ctx is cancelled (Serve returns ctx.Err()), or
// writing to out fails. Requests still running are cancelled and waited for
// before Serve returns. If in is an io.Closer, Serve closes it on
// cancellation so that the reading goroutine ends; otherwise that goroutine
// ends at the next return of in.Read.
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts *Options) error {
	o := opts.withDefaults()
	s := newServer(o, out)
	if o.Era == EraModern {
		s.enterModern()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	lines := make(chan []byte)
	readErr := make(chan error, 1)
	go func() { readErr <- readLines(ctx, in, o.MaxMessageBytes, lines) }()

	var err error
loop:
	for {
		select {
		case line := <-lines:
			s.handleLine(ctx, line)
		case err = <-readErr:
			if errors.Is(err, io.EOF) {
				err = nil
			} else {
				err = fmt.Errorf("reading from client: %w", err)
			}
			break loop
		case <-s.broken:
			err = fmt.Errorf("writing to client: %w", s.writeError())
			break loop
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		}
	}
	if err != nil {
		// Stop the reading goroutine, which may be blocked in in.Read.
		if c, ok := in.(io.Closer); ok {
			_ = c.Close()
		}
	}
	cancel()
	s.shutdown()
	s.log.Debug("demo server stopped", "err", err)
	return err
}

// readLines sends each non-blank line of in to lines until in ends or ctx is
// done. A line over max bytes is discarded and reported as errLineTooLong in
// its place (sent as nil; the handler answers it with a parse error).
func readLines(ctx context.Context, in io.Reader, max int, lines chan<- []byte) error {
	br := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := readLine(br, max)
		if len(bytes.TrimSpace(line)) > 0 || errors.Is(err, errLineTooLong) {
			if errors.Is(err, errLineTooLong) {
				line = nil
			}
			select {
			case lines <- line:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return err
		}
	}
}

// readLine returns the next line without its newline. It returns what it has
// with io.EOF at the end of input, and errLineTooLong (after consuming the
// rest of the line) when the line exceeds max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf)+len(frag) > max+1 { // +1: the newline itself
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return nil, err
			}
			return nil, errLineTooLong
		}
		switch {
		case err == nil:
			if buf == nil {
				// Copy: ReadSlice's buffer is reused by the next read.
				return bytes.Clone(frag[:len(frag)-1]), nil
			}
			return append(buf, frag[:len(frag)-1]...), nil
		case errors.Is(err, bufio.ErrBufferFull):
			buf = append(buf, frag...)
		default:
			return append(buf, frag...), err
		}
	}
}

// send writes m as one line. After the first write error it drops every
// message and closes s.broken, which stops Serve.
func (s *server) send(m *jsonrpc.Message) {
	if s.deliver != nil {
		s.deliver(m) // served over HTTP (httpserve.go)
		return
	}
	s.sendLine(jsonrpc.Encode(m))
}

// sendLine writes one encoded message followed by a newline, in one Write.
// Encoded JSON has no raw newlines: encoding/json escapes them in strings and
// compacts raw fields [T §stdio: messages MUST NOT contain embedded newlines].
func (s *server) sendLine(b []byte) {
	b = append(b, '\n')
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.writeErr != nil {
		return
	}
	if _, err := s.out.Write(b); err != nil {
		s.writeErr = err
		close(s.broken)
	}
}

func (s *server) writeError() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.writeErr
}

// notify sends a notification.
func (s *server) notify(method string, params any) {
	if s.modern != nil && s.notifyListens(method, params) {
		return // change notifications go only to listen streams (listen_modern.go)
	}
	s.send(jsonrpc.NewNotification(method, jsonrpc.MustRaw(params)))
}

// shutdown waits for running requests (their contexts are already
// cancelled) and fails the server→client requests still waiting.
func (s *server) shutdown() {
	s.mu.Lock()
	s.closed = true
	for key, ch := range s.pending {
		delete(s.pending, key)
		close(ch)
	}
	s.mu.Unlock()
	s.handlers.Wait()
	s.handlerPool.Stop() // fastpath.go: the request goroutines exit
	s.handlerPool.Wait()
	if s.modern != nil {
		s.modern.tasks.close() // tasks.go
	}
}

// server is the state of one Serve call.
type server struct {
	opts   Options
	log    *slog.Logger
	out    io.Writer
	broken chan struct{} // closed on the first write error

	writeMu  sync.Mutex // guards out and writeErr
	writeErr error

	handlers    sync.WaitGroup // requests running
	handlerPool workpool.Pool  // the goroutines that run them (goHandler)

	mu sync.Mutex // guards the fields below
	// initialized is set once initialize has been answered.
	initialized bool
	// version is the negotiated protocol version ("" before initialize).
	version string
	// clientCaps are the capabilities the client declared in initialize.
	clientCaps clientCapabilities
	// logLevel is the minimum level of notifications/message; -1 means the
	// client has not set one and every level is sent.
	logLevel int
	// inflight maps a request key (see idKey) to its cancel function.
	inflight map[string]context.CancelFunc
	// pending maps the key of a server→client request to the channel its
	// response is delivered on.
	pending map[string]chan *jsonrpc.Message
	// nextID numbers server→client requests.
	nextID int64
	// closed is set by shutdown; no new server→client requests start.
	closed bool
	// subscriptions holds the resource URIs the client subscribed to.
	subscriptions map[string]bool
	// watchedText is the current content of test://watched-resource, and
	// watchUpdates the number of times update_watched_resource changed it.
	watchedText  string
	watchUpdates int
	// dynamicTool is whether the tool dynamic_tool is listed.
	dynamicTool bool
	// dynamicPrompt is whether the prompt dynamic_prompt is listed.
	dynamicPrompt bool
	// modern is the 2026-07-28 era's state; nil in the session era. Set
	// before serving starts.
	modern *modernState
	// deliver, when set (before serving starts), receives every message
	// send would write to out: the HTTP server's routing (httpserve.go).
	deliver func(*jsonrpc.Message)
}

func newServer(o Options, out io.Writer) *server {
	return &server{
		opts:          o,
		log:           o.Logger,
		out:           out,
		broken:        make(chan struct{}),
		logLevel:      -1,
		inflight:      make(map[string]context.CancelFunc),
		pending:       make(map[string]chan *jsonrpc.Message),
		subscriptions: make(map[string]bool),
		watchedText:   watchedResourceText,
	}
}
