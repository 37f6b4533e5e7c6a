package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// upstreamLists are the raw list items one upstream last reported, with
// their freshness (freshness.go). Guarded by Relay.refreshMu.
type upstreamLists struct {
	tools, prompts, resources, templates []json.RawMessage
	// fresh says, per list kind, until when the list is fresh and whether
	// the upstream called it private.
	fresh [4]listFreshness
	// refreshing is set while a refresh started because a list went stale
	// runs, so that one runs at a time.
	refreshing bool
}

// route says where a namespaced name goes.
type route struct {
	upstream string
	name     string // the upstream's own name
}

type templateRoute struct {
	re       *regexp.Regexp
	upstream string
}

// catalog is an immutable aggregated view of every upstream's lists, with
// the list results pre-encoded so that list requests cost a copy.
type catalog struct {
	toolsResult, promptsResult, resourcesResult, templatesResult json.RawMessage

	tools     map[string]route
	readOnly  map[string]bool            // exposed tool name → annotations.readOnlyHint
	headers   map[string][]headerBinding // exposed tool name → x-mcp-header bindings (stateless.go)
	prompts   map[string]route
	resources map[string]string // uri → upstream
	templates []templateRoute

	// staleAt is, per list kind, when the first contributing upstream list
	// goes stale; zero means never (fresh until an upstream announces a
	// change). private marks the kinds with a contributing list an
	// upstream called private (freshness.go, [CACHE §Cache Scope Field]).
	staleAt [4]time.Time
	private [4]bool
	// modern caches the 2026-07-28 encodings of the four list results,
	// built on first use (freshness.go).
	modern [4]atomic.Pointer[modernList]
}

func emptyCatalog() *catalog {
	return &catalog{
		toolsResult:     json.RawMessage(`{"tools":[]}`),
		promptsResult:   json.RawMessage(`{"prompts":[]}`),
		resourcesResult: json.RawMessage(`{"resources":[]}`),
		templatesResult: json.RawMessage(`{"resourceTemplates":[]}`),
		tools:           map[string]route{},
		readOnly:        map[string]bool{},
		headers:         map[string][]headerBinding{},
		prompts:         map[string]route{},
		resources:       map[string]string{},
	}
}

// maxListPages bounds how many pages of one list the gateway follows.
const maxListPages = 100

// fetchList collects every page of a list method from one upstream, with
// the caching hints the pages carried (a 2026-07-28 upstream's ttlMs and
// cacheScope [CACHE §Cacheable Results]; absent from session-era ones).
func fetchList(ctx context.Context, conn upstream.Conn, method, field string) ([]json.RawMessage, listHints, error) {
	var items []json.RawMessage
	var hints listHints
	var cursor string
	for page := 0; page < maxListPages; page++ {
		var params json.RawMessage
		if cursor != "" {
			params = jsonrpc.MustRaw(map[string]string{"cursor": cursor})
		}
		resp, err := conn.Call(ctx, method, params)
		if err != nil {
			return nil, hints, fmt.Errorf("calling %s: %w", method, err)
		}
		if resp.Error != nil {
			return nil, hints, fmt.Errorf("calling %s: %w", method, resp.Error)
		}
		var res map[string]json.RawMessage
		if err := json.Unmarshal(resp.Result, &res); err != nil {
			return nil, hints, fmt.Errorf("decoding %s result: %w", method, err)
		}
		var pageItems []json.RawMessage
		if raw, ok := res[field]; ok {
			if err := json.Unmarshal(raw, &pageItems); err != nil {
				return nil, hints, fmt.Errorf("decoding %s.%s: %w", method, field, err)
			}
		}
		hints.add(res)
		items = append(items, pageItems...)
		cursor = ""
		if raw, ok := res["nextCursor"]; ok {
			_ = json.Unmarshal(raw, &cursor)
		}
		if cursor == "" {
			return items, hints, nil
		}
	}
	return items, hints, fmt.Errorf("calling %s: more than %d pages", method, maxListPages)
}

// listKind names one of the four aggregated lists.
type listKind int

const (
	listTools listKind = iota
	listPrompts
	listResources
	listTemplates
)

func (k listKind) method() (method, field string) {
	switch k {
	case listTools:
		return mcp.MethodToolsList, "tools"
	case listPrompts:
		return mcp.MethodPromptsList, "prompts"
	case listResources:
		return mcp.MethodResourcesList, "resources"
	}
	return mcp.MethodResourcesTemplatesList, "resourceTemplates"
}

// offered reports whether an upstream with info offers list kind k.
func (k listKind) offered(info *upstream.Info) bool {
	if info == nil {
		return false
	}
	switch k {
	case listTools:
		return info.Capabilities.Tools != nil
	case listPrompts:
		return info.Capabilities.Prompts != nil
	}
	return info.Capabilities.Resources != nil
}

// refresh re-reads the given lists of one shared upstream and rebuilds the
// catalog. It reports whether the aggregated lists changed, per kind.
func (r *Relay) refresh(ctx context.Context, name string, kinds ...listKind) (changed [4]bool) {
	u, ok := r.conn(name)
	if !ok || u.Conn == nil {
		return changed
	}
	fetched := r.fetchLists(ctx, name, u.Conn, u.Conn.Info(), kinds)
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	r.lists[name].set(fetched)
	old := r.catalog.Load()
	next := r.buildCatalogLocked("")
	r.catalog.Store(next)
	clear(r.userCats) // rebuilt on demand with the new shared lists
	return catalogChanges(old, next)
}

// fetchLists reads the given lists from conn; a list the upstream does not
// offer is empty, one that fails to read keeps its old items (and is tried
// again soon, freshness.go).
func (r *Relay) fetchLists(ctx context.Context, name string, conn upstream.Conn, info *upstream.Info, kinds []listKind) map[listKind]fetchedList {
	fetched := map[listKind]fetchedList{}
	for _, k := range kinds {
		if !k.offered(info) {
			fetched[k] = fetchedList{} // nothing to list: never stale
			continue
		}
		method, field := k.method()
		items, hints, err := fetchList(ctx, conn, method, field)
		if err != nil {
			r.log.Warn("upstream list refresh", "upstream", name, "method", method, "err", err)
			fetched[k] = fetchedList{failed: true, fresh: r.retryFreshness()}
			continue // keep what we had
		}
		fetched[k] = fetchedList{items: items, fresh: r.freshnessOf(k, info, hints)}
	}
	return fetched
}

// fetchedList is one list as fetchLists read it.
type fetchedList struct {
	items  []json.RawMessage
	fresh  listFreshness
	failed bool // the read failed: items are not set
}

// set stores freshly fetched lists and their freshness.
func (l *upstreamLists) set(fetched map[listKind]fetchedList) {
	l.refreshing = false
	for k, f := range fetched {
		l.fresh[k] = f.fresh
		if f.failed {
			continue
		}
		switch k {
		case listTools:
			l.tools = f.items
		case listPrompts:
			l.prompts = f.items
		case listResources:
			l.resources = f.items
		case listTemplates:
			l.templates = f.items
		}
	}
}

// catalogChanges reports which aggregated lists differ between two catalogs.
func catalogChanges(old, next *catalog) (changed [4]bool) {
	changed[listTools] = !bytes.Equal(old.toolsResult, next.toolsResult)
	changed[listPrompts] = !bytes.Equal(old.promptsResult, next.promptsResult)
	changed[listResources] = !bytes.Equal(old.resourcesResult, next.resourcesResult) ||
		!bytes.Equal(old.templatesResult, next.templatesResult)
	return changed
}

// buildCatalogLocked aggregates r.lists in upstream order, with the lists of
// per-user upstreams taken from user userKey ("" for none). r.refreshMu is
// held.
func (r *Relay) buildCatalogLocked(userKey string) *catalog {
	c := emptyCatalog()
	var tools, prompts, resources, templates []json.RawMessage
	for _, u := range r.upstreams {
		name := u.Name
		l := r.lists[name]
		if u.PerUser != nil {
			if l = r.userLists[userKey][name]; l == nil {
				continue
			}
		}
		c.addFreshness(l)
		for _, item := range l.tools {
			if out, exposed, orig, ok := r.renameItem(name, item, "name"); ok {
				if _, dup := c.tools[exposed]; dup {
					r.log.Warn("duplicate tool name", "upstream", name, "tool", orig)
					continue
				}
				c.tools[exposed] = route{upstream: name, name: orig}
				c.readOnly[exposed] = readOnlyHint(item)
				if b := headerBindings(item); b != nil {
					c.headers[exposed] = b
				}
				tools = append(tools, out)
			}
		}
		for _, item := range l.prompts {
			if out, exposed, orig, ok := r.renameItem(name, item, "name"); ok {
				if _, dup := c.prompts[exposed]; dup {
					r.log.Warn("duplicate prompt name", "upstream", name, "prompt", orig)
					continue
				}
				c.prompts[exposed] = route{upstream: name, name: orig}
				prompts = append(prompts, out)
			}
		}
		for _, item := range l.resources {
			var res struct {
				URI string `json:"uri"`
			}
			if json.Unmarshal(item, &res) != nil || res.URI == "" {
				continue
			}
			if owner, dup := c.resources[res.URI]; dup {
				// URIs are routing keys and are kept unchanged; the first
				// upstream in configuration order owns a contested URI.
				r.log.Warn("resource uri served by two upstreams", "uri", res.URI, "owner", owner, "shadowed", name)
				continue
			}
			out, _, _, ok := r.renameItem(name, item, "name")
			if !ok {
				out = item
			}
			c.resources[res.URI] = name
			resources = append(resources, out)
		}
		for _, item := range l.templates {
			var t struct {
				URITemplate string `json:"uriTemplate"`
			}
			if json.Unmarshal(item, &t) != nil || t.URITemplate == "" {
				continue
			}
			re, err := templateRegexp(t.URITemplate)
			if err != nil {
				r.log.Warn("bad resource template", "upstream", name, "err", err)
				continue
			}
			out, _, _, ok := r.renameItem(name, item, "name")
			if !ok {
				out = item
			}
			c.templates = append(c.templates, templateRoute{re: re, upstream: name})
			templates = append(templates, out)
		}
	}
	c.toolsResult = listResult("tools", tools)
	c.promptsResult = listResult("prompts", prompts)
	c.resourcesResult = listResult("resources", resources)
	c.templatesResult = listResult("resourceTemplates", templates)
	return c
}

func listResult(field string, items []json.RawMessage) json.RawMessage {
	if items == nil {
		items = []json.RawMessage{}
	}
	return jsonrpc.MustRaw(map[string][]json.RawMessage{field: items})
}

// renameItem returns item with its field (a name) namespaced by upstream, the
// exposed name and the original. ok is false when the item has no such
// string field.
func (r *Relay) renameItem(upstreamName string, item json.RawMessage, field string) (out json.RawMessage, exposed, orig string, ok bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(item, &obj); err != nil {
		return nil, "", "", false
	}
	if err := json.Unmarshal(obj[field], &orig); err != nil || orig == "" {
		return nil, "", "", false
	}
	exposed = r.exposedName(upstreamName, orig)
	if exposed == orig {
		return item, exposed, orig, true
	}
	obj[field] = jsonrpc.MustRaw(exposed)
	return jsonrpc.MustRaw(obj), exposed, orig, true
}

// exposedName namespaces an upstream's tool or prompt name.
func (r *Relay) exposedName(upstreamName, name string) string {
	if !r.prefixed() {
		return name
	}
	return upstreamName + r.opts.Separator + name
}

// templateRegexp turns an RFC 6570 URI template into a matcher: simple
// expansions {x} match one path segment, reserved ones {+x} and {#x} match
// anything, and other operators match what is left of the URI.
func templateRegexp(tmpl string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for len(tmpl) > 0 {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(tmpl))
			break
		}
		b.WriteString(regexp.QuoteMeta(tmpl[:i]))
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("unclosed expression in %q", tmpl)
		}
		expr := tmpl[i+1 : i+j]
		switch {
		case expr == "":
			return nil, fmt.Errorf("empty expression in %q", tmpl)
		case expr[0] == '+' || expr[0] == '#':
			b.WriteString(".*")
		case strings.ContainsRune("./;?&", rune(expr[0])):
			b.WriteString(".*")
		default:
			b.WriteString("[^/?#]*")
		}
		tmpl = tmpl[i+j+1:]
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// resourceOwner finds the upstream serving uri: a listed resource first,
// then the first matching template, then a lone upstream.
func (r *Relay) resourceOwner(c *catalog, uri string) (string, bool) {
	if name, ok := c.resources[uri]; ok {
		return name, true
	}
	for _, t := range c.templates {
		if t.re.MatchString(uri) {
			return t.upstream, true
		}
	}
	if len(r.upstreams) == 1 {
		return r.upstreams[0].Name, true
	}
	return "", false
}

// readOnlyHint reads a tool's annotations.readOnlyHint; absent means false
// ([server/tools §Tool annotations]: hints default to the cautious value).
func readOnlyHint(tool json.RawMessage) bool {
	var t struct {
		Annotations struct {
			ReadOnlyHint bool `json:"readOnlyHint"`
		} `json:"annotations"`
	}
	return json.Unmarshal(tool, &t) == nil && t.Annotations.ReadOnlyHint
}

// ToolReadOnly reports whether the tool exposed as name to client cl is
// annotated readOnlyHint; found is false for a tool the gateway does not
// list to cl (per-user upstreams' tools are cl's user's). Role checks
// (package access) use it.
func (r *Relay) ToolReadOnly(ctx context.Context, cl *Client, name string) (readOnly, found bool) {
	c, _ := r.catalogFor(ctx, cl)
	if _, ok := c.tools[name]; !ok {
		return false, false
	}
	return c.readOnly[name], true
}
