package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// Upstream eras (docs/protocol-eras.md §4.1). [STDIO] is
// docs/specification/draft/basic/transports/stdio.mdx, [B26]
// docs/specification/2026-07-28/basic/index.mdx, [DISC]
// docs/specification/draft/server/discover.mdx.

// Era is the protocol era the gateway speaks with an upstream.
type Era string

const (
	// EraSession: initialize, then a session (2024-11-05 … 2025-11-25).
	// The zero value, so that an Info from initialize needs no change.
	EraSession Era = ""
	// EraModern: 2026-07-28 and later; no initialize, server/discover, and
	// every request carries the per-request protocol fields in _meta.
	EraModern Era = "modern"
)

// ErrSessionEra is returned by Discover when the upstream answered
// server/discover in a way that shows it is not a modern server (an error,
// or no version the gateway speaks); the caller initializes it instead.
var ErrSessionEra = errors.New("upstream is session-era")

// CallFunc sends one request upstream and returns its response (which may
// be a JSON-RPC error response). Each transport supplies its own.
type CallFunc func(ctx context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error)

// Discover probes an upstream the way [STDIO §Backward Compatibility]
// prescribes for a client that speaks both eras: server/discover with the
// gateway's own per-request _meta first. A DiscoverResult listing a modern
// version the gateway speaks makes the upstream modern (the returned Info
// has Era EraModern and ProtocolVersion the version chosen); a -32022
// UnsupportedProtocolVersion naming such a version is retried once with it
// [V26 §Protocol Version Negotiation]. Any other JSON-RPC error answer
// returns an error wrapping ErrSessionEra. Transport failures and ctx's end
// are returned as they are: the caller decides (a silent upstream is
// session-era after the probe timeout; a dead one is restarted).
// clientInfo is the gateway's Implementation object, sent in _meta.
func Discover(ctx context.Context, call CallFunc, clientInfo json.RawMessage) (*Info, error) {
	version := mcp.ModernVersions[0]
	for attempt := 0; ; attempt++ {
		params := WithMeta(nil, MetaFields(version, nil, clientInfo, ""))
		m, err := call(ctx, mcp.MethodServerDiscover, params)
		if err != nil {
			return nil, err
		}
		if m.Error != nil {
			if v, ok := retryVersion(m.Error, version); ok && attempt == 0 {
				version = v
				continue
			}
			return nil, fmt.Errorf("%w: server/discover answered error %d", ErrSessionEra, m.Error.Code)
		}
		return discoverInfo(m.Result)
	}
}

// retryVersion reads a -32022 error's data.supported and returns the first
// modern version the gateway speaks, when it differs from the one sent.
func retryVersion(e *jsonrpc.Error, sent string) (string, bool) {
	if e.Code != mcp.CodeUnsupportedProtocolVersion || len(e.Data) == 0 {
		return "", false
	}
	var d struct {
		Supported []string `json:"supported"`
	}
	if json.Unmarshal(e.Data, &d) != nil {
		return "", false
	}
	for _, v := range mcp.ModernVersions {
		if v != sent && slices.Contains(d.Supported, v) {
			return v, true
		}
	}
	return "", false
}

// discoverInfo reads a DiscoverResult [DISC §Response; S26 DiscoverResult]
// into an Info: the newest modern version both sides speak, capabilities,
// instructions and _meta's serverInfo.
func discoverInfo(result json.RawMessage) (*Info, error) {
	var d struct {
		SupportedVersions []string        `json:"supportedVersions"`
		Capabilities      Capabilities    `json:"capabilities"`
		Instructions      string          `json:"instructions"`
		ServerInfo        json.RawMessage `json:"serverInfo"` // earlier drafts
		Meta              struct {
			ServerInfo json.RawMessage `json:"io.modelcontextprotocol/serverInfo"`
		} `json:"_meta"`
	}
	if err := json.Unmarshal(result, &d); err != nil {
		return nil, fmt.Errorf("%w: reading the DiscoverResult: %v", ErrSessionEra, err)
	}
	info := &Info{
		Era:               EraModern,
		Capabilities:      d.Capabilities,
		Instructions:      d.Instructions,
		ServerInfo:        d.Meta.ServerInfo,
		SupportedVersions: d.SupportedVersions,
		Raw:               result,
	}
	if len(info.ServerInfo) == 0 {
		info.ServerInfo = d.ServerInfo
	}
	for _, v := range mcp.ModernVersions { // newest first
		if slices.Contains(d.SupportedVersions, v) {
			info.ProtocolVersion = v
			return info, nil
		}
	}
	return nil, fmt.Errorf("%w: no supported version the gateway speaks in %q", ErrSessionEra, d.SupportedVersions)
}

// emptyCaps is the clientCapabilities of the gateway's own requests (the
// probe, list refreshes): it relays nothing on its own behalf.
var emptyCaps = json.RawMessage(`{}`)

// MetaFields encodes the per-request protocol fields of [B26 §_meta] as
// object members without braces, ready for WithMeta: protocolVersion,
// clientCapabilities (nil means {}), clientInfo (omitted when empty) and
// logLevel (omitted when ""). Callers encode it once and reuse it.
func MetaFields(version string, caps, clientInfo json.RawMessage, logLevel string) []byte {
	if len(caps) == 0 {
		caps = emptyCaps
	}
	b := make([]byte, 0, 160+len(caps)+len(clientInfo))
	b = append(b, `"`+mcp.MetaProtocolVersion+`":`...)
	b = jsonrpc.AppendString(b, version)
	b = append(b, `,"`+mcp.MetaClientCapabilities+`":`...)
	b = appendCompact(b, caps)
	if len(clientInfo) > 0 {
		b = append(b, `,"`+mcp.MetaClientInfo+`":`...)
		b = appendCompact(b, clientInfo)
	}
	if logLevel != "" {
		b = append(b, `,"`+mcp.MetaLogLevel+`":`...)
		b = jsonrpc.AppendString(b, logLevel)
	}
	return b
}

func appendCompact(b []byte, raw json.RawMessage) []byte {
	buf := bytes.NewBuffer(b)
	if json.Compact(buf, raw) != nil {
		return append(b, "{}"...)
	}
	return buf.Bytes()
}

// metaKey is what HasProtocolMeta looks for.
var metaKey = []byte(`"` + mcp.MetaProtocolVersion + `"`)

// HasProtocolMeta reports whether params already carry a per-request
// protocol version in _meta (a 2026 client's request, passed through).
// It is a byte search: a string value that merely contains the key counts
// too, which only means the caller's own fields are not added.
func HasProtocolMeta(params json.RawMessage) bool { return bytes.Contains(params, metaKey) }

// WithMeta returns params with fields (from MetaFields) added to its _meta
// object, creating _meta (or params) when absent. Params that already carry
// a protocol version in _meta are returned unchanged: a 2026 client's
// fields pass through as bytes. Nothing else is re-encoded.
func WithMeta(params json.RawMessage, fields []byte) json.RawMessage {
	if HasProtocolMeta(params) {
		return params
	}
	open := bytes.IndexByte(params, '{')
	if len(bytes.TrimSpace(params)) == 0 || string(bytes.TrimSpace(params)) == "null" || open < 0 {
		out := make([]byte, 0, len(fields)+12)
		out = append(out, `{"_meta":{`...)
		out = append(out, fields...)
		return append(out, "}}"...)
	}
	metaAt, metaEnd, metaEmpty, odd := -1, -1, false, false
	jsonrpc.Members(params, func(m jsonrpc.Member) bool {
		switch {
		case m.KeyEscaped:
			odd = true // the key might spell _meta: decode to be sure
		case string(m.Key) == "_meta":
			odd = odd || metaAt >= 0 // a repeated _meta: the last one counts
			metaAt, metaEnd = m.Start, m.End
			metaEmpty = m.Value[0] != '{' || len(bytes.TrimSpace(m.Value[1:len(m.Value)-1])) == 0
		}
		return true
	})
	if odd {
		return withMetaDecoded(params, fields)
	}
	out := make([]byte, 0, len(params)+len(fields)+12)
	if metaAt >= 0 && params[metaAt] != '{' {
		// _meta is null (or not an object): replaced by ours.
		out = append(out, params[:metaAt]...)
		out = append(out, '{')
		out = append(out, fields...)
		out = append(out, '}')
		return append(out, params[metaEnd:]...)
	}
	if metaAt >= 0 {
		out = append(out, params[:metaAt+1]...)
		out = append(out, fields...)
		if !metaEmpty {
			out = append(out, ',')
		}
		return append(out, params[metaAt+1:]...)
	}
	out = append(out, params[:open+1]...)
	out = append(out, `"_meta":{`...)
	out = append(out, fields...)
	out = append(out, '}')
	if rest := bytes.TrimLeft(params[open+1:], " \t\r\n"); len(rest) == 0 || rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, params[open+1:]...)
}

// Protocol is an upstream's configured era (config `protocol`).
type Protocol string

const (
	// ProtocolAuto probes with server/discover at each start and falls back
	// to initialize (docs/protocol-eras.md §4.1).
	ProtocolAuto Protocol = "auto"
	// ProtocolModern speaks only the stateless era: server/discover, never
	// initialize.
	ProtocolModern Protocol = "modern"
	// ProtocolLegacy speaks only the session era: initialize, no probe.
	ProtocolLegacy Protocol = "legacy"
)

// Valid reports whether p is one of the three values or empty.
func (p Protocol) Valid() bool {
	return p == "" || p == ProtocolAuto || p == ProtocolModern || p == ProtocolLegacy
}

// withMetaDecoded is WithMeta for params whose keys need decoding (escaped
// or repeated): params are decoded, the fields merged into _meta, and
// re-encoded. Invalid params are returned unchanged.
func withMetaDecoded(params json.RawMessage, fields []byte) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(params, &obj) != nil {
		return params
	}
	meta := map[string]json.RawMessage{}
	if raw, ok := obj["_meta"]; ok {
		_ = json.Unmarshal(raw, &meta) // null or not an object: replaced
	}
	var add map[string]json.RawMessage
	if json.Unmarshal(append(append([]byte{'{'}, fields...), '}'), &add) != nil {
		return params
	}
	maps.Copy(meta, add)
	obj["_meta"] = jsonrpc.MustRaw(meta)
	return jsonrpc.MustRaw(obj)
}

// EraMemory remembers the era a ProtocolAuto probe settled on. Connections
// of one configured upstream share one (a per-user upstream's processes),
// so that only the first start pays for the probe. The zero value is
// empty and ready to use.
type EraMemory struct {
	mu sync.Mutex // guards p
	p  Protocol
}

// Load returns the remembered era: ProtocolModern, ProtocolLegacy, or ""
// before the first decision.
func (m *EraMemory) Load() Protocol {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.p
}

// Store remembers p.
func (m *EraMemory) Store(p Protocol) {
	m.mu.Lock()
	m.p = p
	m.mu.Unlock()
}

// DropProtocolVersion returns params without the per-request protocol
// version in _meta, for a session-era upstream: its version was settled at
// initialize, and a dual-era server that saw a 2026-07-28 version in
// _meta would serve (or refuse) the request in that era. The other _meta
// members (clientCapabilities as a hint, progressToken) stay. Params
// without one are returned unchanged.
func DropProtocolVersion(params json.RawMessage) json.RawMessage {
	if !HasProtocolMeta(params) {
		return params
	}
	// Fast path, on every request a 2026-07-28 client sends to a
	// session-era upstream: the member is cut out of the raw bytes (the
	// decoding below took a third of such a request's CPU). Whatever it
	// cannot vouch for (duplicate or escaped names) takes the slow path.
	if start, end, ok := soleMember(params, "_meta"); ok {
		if trimmed, removed, ok := jsonrpc.WithoutMember(params[start:end], mcp.MetaProtocolVersion); ok {
			if !removed {
				return params
			}
			out := make([]byte, 0, len(params)-(end-start)+len(trimmed))
			out = append(out, params[:start]...)
			out = append(out, trimmed...)
			return append(out, params[end:]...)
		}
	}
	return dropProtocolVersionSlow(params)
}

// soleMember returns the offsets of the value of obj's member key when obj
// is a valid object with exactly one member of that name and no escaped
// names.
func soleMember(obj []byte, key string) (start, end int, ok bool) {
	n, escaped := 0, false
	valid := jsonrpc.Members(obj, func(m jsonrpc.Member) bool {
		escaped = escaped || m.KeyEscaped
		if string(m.Key) == key {
			n++
			start, end = m.Start, m.End
		}
		return true
	})
	return start, end, valid && !escaped && n == 1
}

// dropProtocolVersionSlow is DropProtocolVersion by decoding, for the
// params the fast path leaves.
func dropProtocolVersionSlow(params json.RawMessage) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(params, &obj) != nil {
		return params
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(obj["_meta"], &meta) != nil {
		return params
	}
	if _, ok := meta[mcp.MetaProtocolVersion]; !ok {
		return params
	}
	delete(meta, mcp.MetaProtocolVersion)
	obj["_meta"] = jsonrpc.MustRaw(meta)
	return jsonrpc.MustRaw(obj)
}
