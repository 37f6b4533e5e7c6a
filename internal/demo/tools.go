package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// toolFunc runs a tool. args is the arguments object ({} when absent). A
// failure of the tool itself is a result with isError set [tools §Error
// Handling]; when ctx ends the result is discarded.
type toolFunc func(ctx context.Context, s *server, r *request, args json.RawMessage) *toolResult

// tool is one tool of the demo server.
type tool struct {
	name        string
	title       string
	description string
	inputSchema json.RawMessage
	// outputSchema, when set, describes the result's structuredContent.
	outputSchema json.RawMessage
	annotations  *toolAnnotations
	run          toolFunc
}

type toolAnnotations struct {
	ReadOnlyHint    bool `json:"readOnlyHint,omitempty"`
	DestructiveHint bool `json:"destructiveHint,omitempty"`
	IdempotentHint  bool `json:"idempotentHint,omitempty"`
	OpenWorldHint   bool `json:"openWorldHint"`
}

// toolListing is a tool as tools/list shows it.
type toolListing struct {
	Name         string           `json:"name"`
	Title        string           `json:"title,omitempty"`
	Description  string           `json:"description"`
	InputSchema  json.RawMessage  `json:"inputSchema"`
	OutputSchema json.RawMessage  `json:"outputSchema,omitempty"`
	Annotations  *toolAnnotations `json:"annotations,omitempty"`
}

// listing shows t in protocol version v: annotations exist from 2025-03-26,
// title and outputSchema from 2025-06-18.
func (t *tool) listing(v string) toolListing {
	l := toolListing{Name: t.name, Description: t.description, InputSchema: t.inputSchema}
	if v >= mcp.Version20250326 {
		l.Annotations = t.annotations
	}
	if v >= mcp.Version20250618 {
		l.Title, l.OutputSchema = t.title, t.outputSchema
	}
	return l
}

// toolResult is a CallToolResult.
type toolResult struct {
	Content           []content       `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent,omitempty"`
	IsError           bool            `json:"isError,omitempty"`
}

// content is a content block: text, image, audio or an embedded resource.
type content struct {
	Type     string            `json:"type"`
	Text     string            `json:"text,omitempty"`
	Data     string            `json:"data,omitempty"`
	MimeType string            `json:"mimeType,omitempty"`
	Resource *resourceContents `json:"resource,omitempty"`
}

func textContent(s string) content { return content{Type: "text", Text: s} }

func textResult(s string) *toolResult { return &toolResult{Content: []content{textContent(s)}} }

func errorResult(s string) *toolResult {
	return &toolResult{Content: []content{textContent(s)}, IsError: true}
}

// tools returns the tools listed now, in a stable order.
func (s *server) tools() []*tool {
	s.mu.Lock()
	dynamic := s.dynamicTool
	s.mu.Unlock()
	list := make([]*tool, 0, len(suiteTools)+len(extraTools)+len(tools2026)+len(toolsMRTR)+1)
	list = append(list, suiteTools...)
	list = append(list, extraTools...)
	list = append(list, tools2026...)
	list = append(list, toolsMRTR...) // tools_mrtr.go
	if s.modern != nil {
		list = append(list, modernTaskTools()...) // tasks_tools.go
	}
	if dynamic {
		list = append(list, dynamicTool)
	}
	return list
}

func (s *server) lookupTool(name string) *tool {
	for _, t := range s.tools() {
		if t.name == name {
			return t
		}
	}
	return nil
}

func handleToolsList(_ context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	page, next, e := paginate(s.tools(), r.params, s.opts.PageSize)
	if e != nil {
		return nil, e
	}
	v, _ := s.negotiated()
	out := make([]toolListing, len(page))
	for i, t := range page {
		out[i] = t.listing(v)
	}
	return struct {
		Tools      []toolListing `json:"tools"`
		NextCursor string        `json:"nextCursor,omitempty"`
	}{out, next}, nil
}

func handleToolsCall(ctx context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	var p struct {
		Name      *string         `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if name, args, ok := fastToolsCallParams(r.params); ok { // fastpath.go
		p.Name, p.Arguments = name, args
	} else if e := decodeParams(r.params, &p); e != nil {
		return nil, e
	}
	if p.Name == nil {
		return nil, invalidParams("name is required")
	}
	args := p.Arguments
	switch {
	case len(args) == 0 || string(args) == "null":
		args = json.RawMessage(`{}`)
	case args[0] != '{':
		return nil, invalidParams("arguments must be an object")
	}
	t := s.lookupTool(*p.Name)
	if t == nil {
		// Unknown tools are a protocol error, -32602 [tools §Error Handling].
		return nil, invalidParams("unknown tool " + strconv.Quote(*p.Name))
	}
	res := t.run(ctx, s, r, args)
	if res == nil {
		return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the tool stopped")
	}
	return res, nil
}

// decodeArgs unmarshals tool arguments into v. On failure it returns an
// error result: invalid arguments are a tool execution error, which the
// model can see and correct [tools §Error Handling, 2025-11-25].
func decodeArgs(args json.RawMessage, v any) *toolResult {
	if err := json.Unmarshal(args, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return errorResult(fmt.Sprintf("Invalid arguments: %q has the wrong type", te.Field))
		}
		return errorResult("Invalid arguments: malformed arguments object")
	}
	return nil
}

// paginate returns the page of items that params' cursor points to and the
// cursor of the next page. Cursors are opaque to clients ("o" + offset); an
// unknown cursor is -32602 [utilities/pagination §Error Handling].
func paginate[T any](items []T, params json.RawMessage, size int) ([]T, string, *jsonrpc.Error) {
	var p struct {
		Cursor *string `json:"cursor"`
	}
	if e := decodeParams(params, &p); e != nil {
		return nil, "", e
	}
	start := 0
	if p.Cursor != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(*p.Cursor, "o"))
		if !strings.HasPrefix(*p.Cursor, "o") || err != nil || n <= 0 || n > len(items) {
			return nil, "", invalidParams("invalid cursor")
		}
		start = n
	}
	if size <= 0 || start+size >= len(items) {
		return items[start:], "", nil
	}
	return items[start : start+size], "o" + strconv.Itoa(start+size), nil
}
