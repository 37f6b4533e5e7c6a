package stdio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

var emptyResult = json.RawMessage(`{}`)

// readLoop reads the child's stdout, one JSON-RPC message per line
// [T §stdio], and dispatches each. It ends the process on EOF, on a read
// error and on a line longer than MaxMessageSize.
func (p *process) readLoop() {
	defer p.wg.Done()
	limit := p.c.opts.MaxMessageSize
	sc := bufio.NewScanner(p.stdout)
	sc.Buffer(make([]byte, 0, min(64<<10, limit+1)), limit+1) // +1: the newline
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, rpcErr := jsonrpc.Decode(line)
		if rpcErr != nil {
			// The server MUST NOT write anything to stdout that is not a
			// valid MCP message [T §stdio]; skip it, show only its start.
			p.c.log.Warn("upstream wrote a malformed line; skipped", "pid", p.pid, "err", rpcErr.Message, "len", len(line), "prefix", prefix(line, logPrefix))
			continue
		}
		p.dispatch(m)
	}
	err := sc.Err()
	switch {
	case err == nil:
		err = errOutputClosed
	case errors.Is(err, bufio.ErrTooLong):
		err = fmt.Errorf("reading upstream output: message longer than %d bytes", limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("%w (held open after exit)", errOutputClosed)
	default:
		err = fmt.Errorf("reading upstream output: %w", err)
	}
	p.die(err)
}

// dispatch routes one message from the upstream: responses to their
// waiting call, pings answered here, everything else to the Handler.
func (p *process) dispatch(m *jsonrpc.Message) {
	switch m.Kind() {
	case jsonrpc.KindResponse:
		id, ours := parseID(m.ID)
		var ch chan *jsonrpc.Message
		late := false
		if ours {
			p.mu.Lock()
			ch = p.pending[id]
			delete(p.pending, id)
			if ch == nil {
				_, late = p.cancelled[id]
				delete(p.cancelled, id)
			}
			p.mu.Unlock()
		}
		switch {
		case ch != nil:
			ch <- m
		case late:
			p.c.log.Debug("upstream answered a cancelled request; dropped", "id", id)
		default:
			p.c.log.Warn("upstream response with unknown id; dropped", "pid", p.pid, "id", prefix(m.ID, logPrefix))
		}
	case jsonrpc.KindRequest:
		if m.Method == mcp.MethodPing {
			// Whoever receives a ping answers promptly with an empty
			// result [P]; the gateway, as the upstream's client, does so
			// itself, at any state.
			p.trySend(appendResponse(nil, jsonrpc.NewResponse(m.ID, emptyResult)))
			return
		}
		if p.c.h == nil {
			p.trySend(appendResponse(nil, jsonrpc.NewErrorResponse(m.ID,
				jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found"))))
			return
		}
		p.mu.Lock()
		full := len(p.inbound) >= maxInbound
		if !full {
			p.inbound[string(m.ID)] = struct{}{}
		}
		p.mu.Unlock()
		if full {
			p.trySend(appendResponse(nil, jsonrpc.NewErrorResponse(m.ID,
				jsonrpc.NewError(jsonrpc.CodeInternalError, "Too many requests outstanding"))))
			return
		}
		p.c.h.UpstreamMessage(p.c.opts.Name, m)
	case jsonrpc.KindNotification:
		if p.c.h != nil {
			p.c.h.UpstreamMessage(p.c.opts.Name, m)
		}
	}
}

// writeLoop writes queued lines to the child's stdin in order, batching
// whatever is queued into one write. Writes hold no lock: a child that
// stops reading blocks only this goroutine, and senders wait for queue
// room bounded by their ctx. Closing stdin (stop) unblocks it.
func (p *process) writeLoop() {
	defer p.wg.Done()
	w := bufio.NewWriterSize(p.stdin, 64<<10)
	for {
		var line []byte
		select {
		case line = <-p.writeq:
		case <-p.dead:
			return
		}
		if len(p.writeq) == 0 {
			// Under load, callers are about to queue more lines: yield once
			// so that one write carries them all. Measured at 16 concurrent
			// calls, this cuts writes to the pipe (and the child's wakeups)
			// from one per call to about one per five; when nothing else is
			// runnable, Gosched returns at once.
			runtime.Gosched()
		}
		_, err := w.Write(line)
		p.recycle(line) // bufio copied it, or wrote it through
		for err == nil && len(p.writeq) > 0 {
			line = <-p.writeq // only this goroutine receives
			_, err = w.Write(line)
			p.recycle(line)
		}
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			p.die(fmt.Errorf("writing to upstream stdin: %w", err))
			return
		}
	}
}

// stderrLoop logs the child's stderr line by line. The server may write
// anything there and the client SHOULD NOT take it as an error [T §stdio],
// so lines go out at Options.StderrLevel, cut at maxStderrLine bytes.
func (p *process) stderrLoop() {
	defer p.wg.Done()
	r := bufio.NewReaderSize(p.stderr, maxStderrLine)
	truncated := false // the rest of a cut line is being skipped
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 && !truncated {
			cut := errors.Is(err, bufio.ErrBufferFull)
			p.logStderr(line, cut)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			truncated = true
			continue
		}
		truncated = false
		if err != nil {
			return
		}
	}
}

func (p *process) logStderr(line []byte, cut bool) {
	if !p.c.log.Enabled(context.Background(), p.c.opts.StderrLevel) {
		return
	}
	line = bytes.TrimRight(line, "\r\n")
	if len(line) == 0 {
		return
	}
	p.c.log.Log(context.Background(), p.c.opts.StderrLevel, "upstream stderr",
		"pid", p.pid, "line", string(bytes.ToValidUTF8(line, []byte("\uFFFD"))), "truncated", cut)
}
