package streamable

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/sse"
)

// directStream is the relay.Stream of one stateless request: written
// straight to its HTTP response, with no event log (nothing is resumable
// in 2026-07-28 [SH26 §Receiving Messages]). The response is JSON when the
// answer comes first; the first notification turns it into an SSE stream
// with no event IDs, priming event or retry ([CL26] Major 9).
type directStream struct {
	w       http.ResponseWriter
	timeout time.Duration
	caps    declaredCaps
	// logLevel is the request's _meta logLevel rank; -1 means the client
	// asked for no logs, and then none are sent
	// ("sep-2575-server-no-log-without-loglevel").
	logLevel int

	mu      sync.Mutex // guards the fields below
	sw      *sse.Writer
	done    bool
	missing string // a client capability a server→client request needed
}

// declaredCaps are the client capabilities of the request's _meta.
type declaredCaps struct{ sampling, elicitation, roots bool }

var (
	errStreamDone     = errors.New("streamable: the request has been answered")
	errNoServerReqs   = errors.New("streamable: server-to-client requests are not sent to stateless clients")
	errNotNotifcation = errors.New("streamable: only notifications go on a stateless request's stream")
)

func newDirectStream(w http.ResponseWriter, timeout time.Duration, meta requestMeta) *directStream {
	d := &directStream{w: w, timeout: timeout, logLevel: -1, caps: readCaps(meta.ClientCapabilities)}
	if meta.LogLevel != "" {
		if lvl, ok := logRank[meta.LogLevel]; ok {
			d.logLevel = lvl
		}
	}
	return d
}

func present(raw []byte) bool { return len(raw) > 0 && string(raw) != "null" }

// readCaps reads which of sampling, elicitation and roots the capabilities
// object caps declares (present and not null), as encoding/json reads them
// into a struct with those fields: names matched case-insensitively, the
// last of duplicates winning, nothing from what is not an object. It
// scans without encoding/json, on every stateless request, and leaves to
// it the names it cannot fold alone: escaped or non-ASCII ones (Unicode
// case folding matches "ſ" to "s").
func readCaps(caps []byte) declaredCaps {
	var d declaredCaps
	sure := true
	valid := jsonrpc.Members(caps, func(mb jsonrpc.Member) bool {
		if mb.KeyEscaped || !ascii(mb.Key) {
			sure = false
			return false
		}
		switch {
		case jsonrpc.FoldEqual(mb.Key, "sampling"):
			d.sampling = present(mb.Value)
		case jsonrpc.FoldEqual(mb.Key, "elicitation"):
			d.elicitation = present(mb.Value)
		case jsonrpc.FoldEqual(mb.Key, "roots"):
			d.roots = present(mb.Value)
		}
		return true
	})
	if sure {
		if !valid {
			return declaredCaps{}
		}
		return d
	}
	var v struct {
		Sampling, Elicitation, Roots json.RawMessage
	}
	if json.Unmarshal(caps, &v) != nil {
		return declaredCaps{}
	}
	return declaredCaps{present(v.Sampling), present(v.Elicitation), present(v.Roots)}
}

// logRank orders the syslog levels of notifications/message.
var logRank = map[string]int{"debug": 0, "info": 1, "notice": 2, "warning": 3, "error": 4,
	"critical": 5, "alert": 6, "emergency": 7}

// Send implements relay.Stream.
func (d *directStream) Send(m *jsonrpc.Message) error {
	switch m.Kind() {
	case jsonrpc.KindRequest:
		// [SH26 §Receiving Messages]: no server→client requests on a
		// stateless stream. The relay turns them into InputRequiredResults
		// for tools/call, prompts/get and resources/read (MRTR,
		// relay/mrtr_*.go); one that still reaches the stream (another
		// method) is refused, and for a capability the client did not
		// declare the answer becomes -32021 [B26 §_meta].
		d.mu.Lock()
		if need := mcp.RequiredCapability(m.Method); need != "" && !d.caps.has(need) && d.missing == "" {
			d.missing = need
		}
		d.mu.Unlock()
		return errNoServerReqs
	case jsonrpc.KindResponse:
		return errNotNotifcation
	}
	if m.Method == mcp.NotificationMessage && !d.wantsLog(m.Params) {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		return errStreamDone
	}
	if d.sw == nil {
		d.sw = sse.Start(d.w, d.timeout)
	}
	d.sw.Event(nil, "", jsonrpc.Encode(m))
	return d.sw.Flush()
}

// keepAlive sends a comment line every interval while the call runs, so
// that proxies and clients do not time out a silent stream
// (docs/protocol-eras.md §2 R6); the first one turns a pending JSON answer
// into an SSE stream. It costs one timer, no goroutine, per request. stop
// disarms it; a tick already running sees done (set by finish) and writes
// nothing. A zero or negative interval sends none.
func (d *directStream) keepAlive(every time.Duration) (stop func()) {
	if every <= 0 {
		return func() {}
	}
	var t *time.Timer
	d.mu.Lock() // t is read by ping under mu
	t = time.AfterFunc(every, func() {
		if d.ping() {
			d.mu.Lock()
			t.Reset(every)
			d.mu.Unlock()
		}
	})
	d.mu.Unlock()
	return func() { t.Stop() }
}

// ping writes a keep-alive comment; false once the answer is written.
func (d *directStream) ping() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		return false
	}
	if d.sw == nil {
		d.sw = sse.Start(d.w, d.timeout)
	}
	d.sw.Comment("ping")
	return d.sw.Flush() == nil
}

// wantsLog applies the request's logLevel to a notifications/message
// [LOG §Per-request log level].
func (d *directStream) wantsLog(params json.RawMessage) bool {
	if d.logLevel < 0 {
		return false
	}
	var p struct {
		Level string `json:"level"`
	}
	_ = json.Unmarshal(params, &p)
	lvl, ok := logRank[p.Level]
	return !ok || lvl >= d.logLevel
}

func (c declaredCaps) has(name string) bool {
	switch name {
	case "sampling":
		return c.sampling
	case "elicitation":
		return c.elicitation
	case "roots":
		return c.roots
	}
	return false
}

// finish writes the answer: JSON with the status of docs/protocol-eras.md
// §2 R1, or the last SSE event once the stream has started. nil (the
// client went away) writes nothing more.
func (d *directStream) finish(resp *jsonrpc.Message) {
	d.mu.Lock()
	d.done = true
	sw, missing := d.sw, d.missing
	d.mu.Unlock()
	if resp != nil && missing != "" {
		// [B26 §_meta]: MissingRequiredClientCapabilityError, on HTTP 400.
		e := jsonrpc.NewError(mcp.CodeMissingClientCapability, "Missing required client capability: "+missing)
		e.Data = jsonrpc.MustRaw(map[string]any{"requiredCapabilities": map[string]struct{}{missing: {}}})
		resp = jsonrpc.NewErrorResponse(resp.ID, e)
	}
	if sw != nil {
		if resp != nil {
			sw.Event(nil, "", jsonrpc.Encode(resp))
			_ = sw.Flush()
		}
		sw.End()
		return
	}
	if resp == nil {
		return
	}
	status := http.StatusOK
	if resp.Error != nil {
		status = statusOf(resp.Error)
		if relay.IsParkLimit(resp.Error) {
			// Bounded everything: too many calls wait for client input
			// (mrtr.max_parked*), a clear 429 the client may retry.
			status = http.StatusTooManyRequests
			d.w.Header().Set("Retry-After", "30")
		}
	}
	writeJSONStatus(d.w, status, jsonrpc.Encode(resp))
}
