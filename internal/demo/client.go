package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// Errors of server→client requests.
var (
	// errClientTimeout: the client did not answer within ClientRequestTimeout.
	errClientTimeout = errors.New("the client did not answer in time")
	// errStopped: the server stopped while waiting.
	errStopped = errors.New("the server is stopping")
)

// requestClient sends a request to the client and waits for its response.
// It gives up when ctx ends or after Options.ClientRequestTimeout, and then
// tells the client with notifications/cancelled [C; L §Timeouts]. An error
// response comes back as a *jsonrpc.Error.
func (s *server) requestClient(ctx context.Context, method string, params any) (json.RawMessage, error) {
	if rd := roundFrom(ctx); rd != nil {
		// The 2026-07-28 era has no server→client requests: the request
		// becomes an input request of an InputRequiredResult (mrtr_modern.go).
		return rd.ask(method, params)
	}
	ch := make(chan *jsonrpc.Message, 1)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errStopped
	}
	s.nextID++
	// The server's ids are strings, so they never look like a client's
	// numeric ids in logs; the id spaces are separate anyway [B].
	id := json.RawMessage(strconv.Quote("demo-" + strconv.FormatInt(s.nextID, 10)))
	key := idKey(id)
	s.pending[key] = ch
	s.mu.Unlock()

	s.sendFor(ctx, jsonrpc.NewRequest(id, method, jsonrpc.MustRaw(params)))

	timer := time.NewTimer(s.opts.ClientRequestTimeout)
	defer timer.Stop()
	var reason string
	var err error
	select {
	case resp, ok := <-ch:
		if !ok {
			return nil, errStopped
		}
		if resp.Error != nil {
			return nil, resp.Error
		}
		return resp.Result, nil
	case <-ctx.Done():
		reason, err = "the tool call was cancelled", ctx.Err()
	case <-timer.C:
		reason, err = "timeout", errClientTimeout
	}
	s.mu.Lock()
	_, stillPending := s.pending[key]
	delete(s.pending, key)
	closed := s.closed
	s.mu.Unlock()
	if stillPending && !closed {
		s.sendFor(ctx, jsonrpc.NewNotification(mcp.NotificationCancelled, jsonrpc.MustRaw(map[string]any{"requestId": id, "reason": reason})))
	}
	return nil, fmt.Errorf("%s %s: %w", method, id, err)
}

// deliverResponse hands a client's response to the waiting requestClient.
func (s *server) deliverResponse(m *jsonrpc.Message) {
	key := idKey(m.ID)
	s.mu.Lock()
	ch := s.pending[key]
	delete(s.pending, key)
	s.mu.Unlock()
	if ch == nil {
		s.log.Warn("response to an unknown request", "id", string(m.ID))
		return
	}
	ch <- m
}
