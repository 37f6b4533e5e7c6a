package demo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// The 2026-07-28 era of the demo server (`mcpgate demo-server --era
// 2026-07-28`, docs/protocol-eras.md §6): stateless over stdio. No
// initialize; server/discover; every request carries the per-request
// protocol fields in _meta; every result carries resultType; lists and
// reads carry ttlMs and cacheScope; logs only with a per-request logLevel;
// sampling, elicitation and roots through InputRequiredResult
// (mrtr_modern.go); change notifications only on subscriptions/listen
// streams (listen_modern.go). The tools, prompts and resources are the
// session era's, unchanged.
//
// [B26] docs/specification/2026-07-28/basic/index.mdx, [V26]
// …/basic/versioning.mdx, [CL26] …/changelog.mdx, [CACHE]
// docs/specification/draft/server/utilities/caching.mdx, [DISC]
// docs/specification/draft/server/discover.mdx.

// Eras of Options.Era.
const (
	EraSession = ""
	EraModern  = "modern"
)

// ParseEra reads a --era flag value: "modern" or a modern revision
// (2026-07-28) select the modern era; "", "legacy", "session" or a session
// revision the session era.
func ParseEra(v string) (string, bool) {
	switch {
	case v == EraModern || mcp.IsModern(v):
		return EraModern, true
	case v == "" || v == "legacy" || v == "session" || mcp.Supported(v):
		return EraSession, true
	}
	return "", false
}

// modernState is the modern era's part of the server.
type modernState struct {
	// key authenticates requestState tokens; random per process.
	key [32]byte

	mu sync.Mutex // guards listens
	// listens are the open subscriptions/listen requests.
	listens map[*modernListen]struct{}

	// tasks are the tasks extension's tasks (tasks.go).
	tasks taskStore
}

// enterModern switches a new server to the modern era: no initialize is
// expected, the version gates of the tools see 2026-07-28, and every
// client capability counts as declared for the tools' own checks, since
// the capabilities of each request are enforced where the tools ask
// (round.ask).
func (s *server) enterModern() {
	m := &modernState{listens: map[*modernListen]struct{}{}}
	_, _ = rand.Read(m.key[:])
	s.modern = m
	s.initialized = true
	s.version = mcp.Version20260728
	s.clientCaps = clientCapabilities{Sampling: emptyObject, Elicitation: emptyObject, Roots: emptyObject}
}

var emptyObject = json.RawMessage(`{}`)

// modernCapabilities are the server capabilities of DiscoverResult; resource
// updates are delivered on subscriptions/listen (listen_modern.go).
var modernCapabilities = json.RawMessage(`{"tools":{"listChanged":true},"prompts":{"listChanged":true},` +
	`"resources":{"subscribe":true,"listChanged":true},"logging":{},"completions":{},` +
	`"extensions":{"` + mcp.ExtensionTasks + `":{}}}`) // tasks.go

// modernMethod returns how a method is served in the modern era. The
// methods 2026-07-28 removed are not found [CL26 Major 2, 4, 5].
func modernMethod(name string) (method, bool) {
	if m, ok := tasksMethod(name); ok { // tasks.go
		return m, true
	}
	switch name {
	case mcp.MethodServerDiscover:
		return method{handleDiscover, true}, true
	case mcp.MethodSubscriptionsListen:
		return method{handleListen, false}, true
	case mcp.MethodInitialize, mcp.MethodPing, mcp.MethodLoggingSetLevel,
		mcp.MethodResourcesSubscribe, mcp.MethodResourcesUnsubscribe:
		return method{}, false
	}
	m, ok := methods[name]
	return m, ok
}

// requestMeta is the per-request protocol fields [B26 §_meta].
type requestMeta struct {
	ProtocolVersion    *string         `json:"io.modelcontextprotocol/protocolVersion"`
	ClientCapabilities json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
	LogLevel           string          `json:"io.modelcontextprotocol/logLevel"`
}

// modernParams are the parts of a request's params the era reads.
type modernParams struct {
	Meta           *requestMeta               `json:"_meta"`
	InputResponses map[string]json.RawMessage `json:"inputResponses"`
	RequestState   *string                    `json:"requestState"`
}

// handleModernRequest checks a request against the era's rules and serves
// it, shaping its response for the era.
func (s *server) handleModernRequest(ctx context.Context, m *jsonrpc.Message, reply replyFunc) {
	fail := func(e *jsonrpc.Error) { reply(jsonrpc.NewErrorResponse(m.ID, e)) }
	meth, ok := modernMethod(m.Method)
	if !ok {
		msg := "Method not found: " + m.Method
		if m.Method == mcp.MethodInitialize {
			// [V26 §Protocol Version Negotiation]: name what is served.
			msg = "Method not found: initialize is not used with protocol version " + strings.Join(mcp.ModernVersions, ", ") + "; use server/discover"
		}
		fail(jsonrpc.NewError(jsonrpc.CodeMethodNotFound, msg))
		return
	}
	var p modernParams
	if len(m.Params) > 0 && json.Unmarshal(m.Params, &p) != nil {
		fail(invalidParams("params must be an object"))
		return
	}
	// [B26 §_meta]: protocolVersion and clientCapabilities are required.
	if p.Meta == nil || p.Meta.ProtocolVersion == nil || len(p.Meta.ClientCapabilities) == 0 || p.Meta.ClientCapabilities[0] != '{' {
		fail(invalidParams("_meta must carry " + mcp.MetaProtocolVersion + " and " + mcp.MetaClientCapabilities))
		return
	}
	if v := *p.Meta.ProtocolVersion; !mcp.IsModern(v) {
		fail(&jsonrpc.Error{Code: mcp.CodeUnsupportedProtocolVersion, Message: "Unsupported protocol version: " + v,
			Data: jsonrpc.MustRaw(map[string]any{"supported": mcp.ModernVersions, "requested": v})})
		return
	}
	rd, rpcErr := s.newRound(p)
	if rpcErr != nil {
		fail(rpcErr)
		return
	}
	s.run(withRound(ctx, rd), m, meth, func(resp *jsonrpc.Message) {
		reply(shapeModern(m.Method, rd, resp))
	})
}

// shapeModern turns a handler's response into the era's: an
// InputRequiredResult when the tool asked for input, -32021 when it asked
// for an undeclared capability, else the result with resultType and, for
// cacheable results, ttlMs and cacheScope [B26 §ResultType; CACHE].
func shapeModern(method string, rd *round, resp *jsonrpc.Message) *jsonrpc.Message {
	if resp == nil {
		return nil
	}
	// A round that asked for input ends that way, whatever the handler made
	// of the ask's errInputRequired (an error result, or an error).
	if e := rd.missingError(); e != nil {
		return jsonrpc.NewErrorResponse(resp.ID, e)
	}
	if res := rd.inputRequired(); res != nil {
		return jsonrpc.NewResponse(resp.ID, res)
	}
	if resp.Error != nil {
		if resp.Error.Code == jsonrpc.CodeResourceNotFound {
			// [B26 §Error Codes]: resource not found is -32602 now.
			e := *resp.Error
			e.Code = jsonrpc.CodeInvalidParams
			return jsonrpc.NewErrorResponse(resp.ID, &e)
		}
		return resp
	}
	if presetResultType(resp.Result) {
		return resp // a CreateTaskResult (tasks.go)
	}
	add := `"resultType":"complete"`
	switch method {
	case mcp.MethodServerDiscover:
		return resp // built complete
	case mcp.MethodToolsList, mcp.MethodPromptsList, mcp.MethodResourcesList, mcp.MethodResourcesTemplatesList:
		add += `,"ttlMs":5000,"cacheScope":"public"`
	case mcp.MethodResourcesRead:
		add += `,"ttlMs":0,"cacheScope":"private"`
	}
	return jsonrpc.NewResponse(resp.ID, prependMembers(resp.Result, add))
}

// prependMembers inserts members (encoded, without braces) at the start of
// the object obj. The handlers' results never carry them already.
func prependMembers(obj json.RawMessage, members string) json.RawMessage {
	if len(obj) < 2 || obj[0] != '{' {
		return obj
	}
	out := make([]byte, 0, len(obj)+len(members)+1)
	out = append(out, '{')
	out = append(out, members...)
	if strings.TrimSpace(string(obj[1:])) != "}" {
		out = append(out, ',')
	}
	return append(out, obj[1:]...)
}

// handleDiscover answers server/discover [DISC; V26 §Protocol Version
// Negotiation]: the versions served, capabilities, instructions, and the
// server's identity in _meta [B26 §_meta "Per-response protocol fields"].
func handleDiscover(_ context.Context, s *server, _ *request) (any, *jsonrpc.Error) {
	return struct {
		ResultType        string          `json:"resultType"`
		SupportedVersions []string        `json:"supportedVersions"`
		Capabilities      json.RawMessage `json:"capabilities"`
		Instructions      string          `json:"instructions"`
		TTLMs             int             `json:"ttlMs"`
		CacheScope        string          `json:"cacheScope"`
		Meta              map[string]any  `json:"_meta"`
	}{
		ResultType:        "complete",
		SupportedVersions: slices.Clone(mcp.ModernVersions),
		Capabilities:      modernCapabilities,
		Instructions:      instructions,
		TTLMs:             5000,
		CacheScope:        "public",
		Meta: map[string]any{mcp.MetaServerInfo: implementation{Name: ServerName,
			Title: "mcpgate demo server", Version: s.opts.ServerVersion}},
	}, nil
}

// logFor sends a log message the way the era wants: in the session era as
// logMessage does; in the modern era only when the request that caused it
// asked for logs with _meta logLevel, at or above that level
// [LOG §Per-request log level].
func (s *server) logFor(ctx context.Context, level string, data any) {
	rd := roundFrom(ctx)
	if rd == nil {
		s.logMessage(ctx, level, data)
		return
	}
	if n := slices.Index(logLevels, level); rd.logLevel < 0 || n < rd.logLevel {
		return
	}
	s.sendLog(ctx, level, data)
}
