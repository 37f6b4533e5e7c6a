package demo

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// logLevels are the syslog severities of MCP logging, least severe first
// [server/utilities/logging §Log Levels].
var logLevels = []string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}

// loggerName is the logger field of the server's notifications/message.
const loggerName = "mcpgate-demo"

func handleSetLevel(ctx context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	var p struct {
		Level string `json:"level"`
	}
	if e := decodeParams(r.params, &p); e != nil {
		return nil, e
	}
	n := slices.Index(logLevels, p.Level)
	if n < 0 {
		return nil, invalidParams("unknown log level")
	}
	s.mu.Lock()
	s.logLevel = n
	s.mu.Unlock()
	// Like the reference server, confirm with a log message (which the new
	// level filters like any other).
	s.logMessage(ctx, "info", "Log level set to: "+p.Level)
	return json.RawMessage(`{}`), nil
}

// logMessage sends notifications/message if level is at or above the level
// the client set; before any logging/setLevel every level is sent
// [logging §Log Levels: the server sends messages at or above the set level].
func (s *server) logMessage(ctx context.Context, level string, data any) {
	n := slices.Index(logLevels, level)
	s.mu.Lock()
	min := s.logLevel
	s.mu.Unlock()
	if n < min {
		return
	}
	s.sendLog(ctx, level, data)
}

// sendLog sends one notifications/message, related to the request of ctx
// (sendFor).
func (s *server) sendLog(ctx context.Context, level string, data any) {
	s.sendFor(ctx, jsonrpc.NewNotification(mcp.NotificationMessage, jsonrpc.MustRaw(struct {
		Level  string `json:"level"`
		Logger string `json:"logger"`
		Data   any    `json:"data"`
	}{level, loggerName, data})))
}
