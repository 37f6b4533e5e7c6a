package demo

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// A message a request's handler sends (its progress, its log messages,
// its server→client requests) is related to that request. Over stdio
// nothing marks the relation and every message goes to stdout; over HTTP
// it decides the stream: such messages belong on the POST's own response
// stream [T §Sending Messages to the Server: the server MAY send requests
// and notifications before the response; they SHOULD relate to the
// originating request]. The HTTP server (httpserve.go) puts the request's
// sink in the context it serves the request with, and handlers send
// through sendFor with their context.

// sinkKey is the context key of a request's sink.
type sinkKey struct{}

// sink receives the messages related to one request.
type sink interface {
	// push queues m on the request's stream; false when the stream is
	// gone (the message is dropped).
	push(m *jsonrpc.Message) bool
}

// withSink returns ctx carrying k.
func withSink(ctx context.Context, k sink) context.Context {
	return context.WithValue(ctx, sinkKey{}, k)
}

// sendFor sends m, related to the request ctx serves: to that request's
// sink when it has one, else as send does.
func (s *server) sendFor(ctx context.Context, m *jsonrpc.Message) {
	if k, ok := ctx.Value(sinkKey{}).(sink); ok {
		if !k.push(m) {
			s.log.Debug("related message dropped: its stream is gone", "method", m.Method)
		}
		return
	}
	s.send(m)
}
