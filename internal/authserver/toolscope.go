package authserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
)

// ToolScopes are per-tool scope requirements: a tools/call of a tool whose
// exposed (namespaced) name matches a pattern needs every scope of every
// matching pattern. Patterns are path.Match globs ("github__*",
// "demo__echo"). A call without them is refused at the HTTP level with
// 403 and an insufficient_scope challenge naming the scopes to ask for
// (2025-11-25 basic/authorization §Scope Challenge Handling; RFC 6750
// §3.1), so the client can step up.
//
// tools/list is not filtered: a client learns of a tool it may not call
// yet and is challenged when it calls it, which is what makes step-up
// work (a hidden tool could never be asked for).
type ToolScopes struct {
	rules []toolRule
}

type toolRule struct {
	pattern string
	scopes  []string
}

// NewToolScopes checks and compiles pattern → scopes. Nil or empty means
// no per-tool requirement (Middleware then passes everything).
func NewToolScopes(m map[string][]string) (*ToolScopes, error) {
	t := &ToolScopes{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, p := range keys {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return nil, fmt.Errorf("checking tool pattern %q: not a valid glob", p)
		}
		if len(m[p]) == 0 {
			return nil, fmt.Errorf("checking tool pattern %q: no scopes", p)
		}
		t.rules = append(t.rules, toolRule{pattern: p, scopes: slices.Clone(m[p])})
	}
	return t, nil
}

// Required returns the scopes a call of tool needs, sorted, or nil.
func (t *ToolScopes) Required(tool string) []string {
	var out []string
	for _, r := range t.rules {
		if ok, _ := path.Match(r.pattern, tool); ok {
			for _, sc := range r.scopes {
				if !slices.Contains(out, sc) {
					out = append(out, sc)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// ToolScopeOptions configures ToolScopes.Middleware.
type ToolScopeOptions struct {
	// Realm and ResourceMetadata go into the challenge as in the bearer
	// middleware's. Zero Realm means "mcpgate"; zero ResourceMetadata
	// leaves it out.
	Realm, ResourceMetadata string
	// MaxBodyBytes is the most the middleware reads to look for
	// tools/call; a larger body passes unread (the transport refuses it).
	// Zero means 4 MiB.
	MaxBodyBytes int64
	// WriteError writes the 403. Nil means httpkit.WriteJSON.
	WriteError httpkit.ErrorWriter
	// Logger receives one line per refusal. Nil discards.
	Logger *slog.Logger
}

var errToolScope = httpkit.NewError(http.StatusForbidden, "insufficient_scope",
	"Forbidden: the access token lacks a scope this tool requires; obtain one with the scopes in the WWW-Authenticate header.")

// toolsCall is how the middleware spots candidate bodies without decoding
// the others.
var toolsCall = []byte(mcp.MethodToolsCall)

// Middleware refuses POSTs carrying a tools/call whose tool needs scopes
// the principal (from the bearer middleware, before it) lacks. Bodies
// without the bytes "tools/call" pass without being decoded; with no
// rules it is the identity.
func (t *ToolScopes) Middleware(opts *ToolScopeOptions) httpkit.Middleware {
	var o ToolScopeOptions
	if opts != nil {
		o = *opts
	}
	setDefault(&o.Realm, "mcpgate")
	setDefault(&o.MaxBodyBytes, 4<<20)
	if o.WriteError == nil {
		o.WriteError = httpkit.WriteJSON
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return func(next http.Handler) http.Handler {
		if t == nil || len(t.rules) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.Body == nil {
				next.ServeHTTP(w, r)
				return
			}
			buf, err := io.ReadAll(io.LimitReader(r.Body, o.MaxBodyBytes+1))
			// The transport reads the body again: what was read, then the rest.
			r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
			if err != nil || int64(len(buf)) > o.MaxBodyBytes || !bytes.Contains(buf, toolsCall) {
				next.ServeHTTP(w, r)
				return
			}
			p := principal.FromContext(r.Context())
			if missing := t.missing(buf, p.Scopes); missing != nil {
				// [Scope Challenge Handling]: the scopes already granted plus
				// the new ones, so the client does not lose what it has.
				want := slices.Clone(p.Scopes)
				for _, sc := range missing {
					if !slices.Contains(want, sc) {
						want = append(want, sc)
					}
				}
				o.Logger.InfoContext(r.Context(), "tool call refused: insufficient scope", "principal", p.Name,
					"missing", strings.Join(missing, " "), "request_id", httpkit.RequestIDFromContext(r.Context()))
				w.Header().Set("WWW-Authenticate", toolChallenge(o.Realm, o.ResourceMetadata, strings.Join(want, " ")))
				o.WriteError(w, r, errToolScope)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// missing returns the scopes the tools/call requests of body need and
// have lacks, or nil. A body that does not parse passes: the transport
// answers it.
func (t *ToolScopes) missing(body []byte, have []string) []string {
	msgs, _, rpcErr := jsonrpc.DecodeBatch(body, true)
	if rpcErr != nil {
		return nil
	}
	var out []string
	for _, m := range msgs {
		if m.Method != mcp.MethodToolsCall {
			continue
		}
		var params struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(m.Params, &params) != nil {
			continue
		}
		for _, sc := range t.Required(params.Name) {
			if !slices.Contains(have, sc) && !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out
}

type readCloser struct {
	io.Reader
	io.Closer
}

// toolChallenge is the Bearer challenge of a refused tool call.
func toolChallenge(realm, resourceMetadata, scope string) string {
	q := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	var b strings.Builder
	b.WriteString(`Bearer realm="` + q.Replace(realm) + `", error="insufficient_scope"`)
	if resourceMetadata != "" {
		b.WriteString(`, resource_metadata="` + q.Replace(resourceMetadata) + `"`)
	}
	b.WriteString(`, scope="` + q.Replace(scope) + `"`)
	return b.String()
}
