package stdio

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// TestProbe opens fake servers of each era with each configured protocol
// (docs/protocol-eras.md §4.1).
func TestProbe(t *testing.T) {
	tests := []struct {
		name        string
		mode        string
		protocol    upstream.Protocol
		wantEra     upstream.Era
		wantVersion string
		wantStart   bool
	}{
		{"modern upstream, auto", modeModern, upstream.ProtocolAuto, upstream.EraModern, mcp.Version20260728, true},
		{"modern upstream, forced modern", modeModern, upstream.ProtocolModern, upstream.EraModern, mcp.Version20260728, true},
		{"modern upstream, legacy: initialize fails", modeModern, upstream.ProtocolLegacy, "", "", false},
		{"legacy answering -32601, auto", modeEcho, upstream.ProtocolAuto, upstream.EraSession, mcp.Latest, true},
		{"legacy silent on discover, auto", modeDiscoverMute, upstream.ProtocolAuto, upstream.EraSession, mcp.Latest, true},
		{"legacy, forced modern: fails", modeEcho, upstream.ProtocolModern, "", "", false},
		{"legacy, zero value: no probe", modeDiscoverCrash, "", upstream.EraSession, mcp.Latest, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(t, tt.mode)
			opts.Protocol = tt.protocol
			// Only silence should wait out the probe: servers that answer
			// get a timeout a loaded machine cannot reach.
			opts.ProbeTimeout = waitTimeout
			if tt.mode == modeDiscoverMute {
				opts.ProbeTimeout = 200 * time.Millisecond
			}
			opts.MaxRestarts = 1
			h := newHarness(t, opts, false)
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			err := h.c.Start(ctx)
			if !tt.wantStart {
				if err == nil {
					t.Fatalf("Start succeeded with era %q, want a failure", h.c.Info().Era)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			info := h.c.Info()
			if info.Era != tt.wantEra || info.ProtocolVersion != tt.wantVersion {
				t.Errorf("era %q version %q, want %q %q", info.Era, info.ProtocolVersion, tt.wantEra, tt.wantVersion)
			}
		})
	}
}

// TestProbeCrashThenInitialize: an upstream that exits on the probe is
// restarted straight into initialize, and the choice is remembered.
func TestProbeCrashThenInitialize(t *testing.T) {
	opts := testOptions(t, modeDiscoverCrash)
	opts.Protocol = upstream.ProtocolAuto
	h := newHarness(t, opts, false)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := h.c.Start(ctx); err == nil {
		t.Fatal("first Start succeeded; the probe should have killed the process")
	}
	info := h.rec.waitReady(t)
	if info.Era != upstream.EraSession {
		t.Errorf("era %q after restart, want session", info.Era)
	}
}

// TestModernMeta: requests to a modern upstream carry _meta; the
// gateway's own get clientCapabilities {}, a client's pass through.
func TestModernMeta(t *testing.T) {
	opts := testOptions(t, modeModern)
	opts.Protocol = upstream.ProtocolAuto
	h := newHarness(t, opts, true)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	info := h.c.Info()
	// The probe itself carried the gateway's _meta (echoed as instructions).
	for _, want := range []string{`"io.modelcontextprotocol/protocolVersion":"2026-07-28"`, `"io.modelcontextprotocol/clientCapabilities":{}`, `"io.modelcontextprotocol/clientInfo":{"name":"mcpgate"`} {
		if !strings.Contains(info.Instructions, want) {
			t.Errorf("discover params %s lack %s", info.Instructions, want)
		}
	}
	if string(info.ServerInfo) != `{"name":"fake-modern","version":"1.0"}` {
		t.Errorf("serverInfo %s", info.ServerInfo)
	}

	tests := []struct {
		name, params, want string
	}{
		{"no _meta", `{"name":"params"}`, `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"mcpgate","version":"devel"}},"name":"params"}`},
		{"_meta with a token", `{"name":"params","_meta":{"progressToken":1}}`, `{"name":"params","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"mcpgate","version":"devel"},"progressToken":1}}`},
		{"client _meta passes", `{"name":"params","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}}}}`, `{"name":"params","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := h.c.Call(ctx, mcp.MethodToolsCall, json.RawMessage(tt.params))
			if err != nil || m.Error != nil {
				t.Fatalf("Call: %v %v", err, m)
			}
			var res struct {
				Content []struct{ Text string } `json:"content"`
			}
			_ = json.Unmarshal(m.Result, &res)
			if got := res.Content[0].Text; got != tt.want {
				t.Errorf("upstream got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestProbeSharedMemory: a second connection sharing the first's
// EraMemory skips the probe (a legacy server that exits on server/discover
// starts at once).
func TestProbeSharedMemory(t *testing.T) {
	mem := &upstream.EraMemory{}
	mem.Store(upstream.ProtocolLegacy)
	opts := testOptions(t, modeDiscoverCrash)
	opts.Protocol = upstream.ProtocolAuto
	opts.EraMemory = mem
	h := newHarness(t, opts, false)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := h.c.Start(ctx); err != nil {
		t.Fatalf("Start: %v (the probe was not skipped)", err)
	}
}

// TestProbeSilenceNotRemembered: an answer decides the era for later
// starts, silence does not (a slow-starting modern server gets probed
// again).
func TestProbeSilenceNotRemembered(t *testing.T) {
	// Servers that answer get a generous probe timeout (a loaded machine
	// must not turn an answer into silence); the mute one a short one.
	for _, tt := range []struct {
		mode    string
		timeout time.Duration
		want    upstream.Protocol
	}{
		{modeEcho, waitTimeout, upstream.ProtocolLegacy},
		{modeModern, waitTimeout, upstream.ProtocolModern},
		{modeDiscoverMute, 100 * time.Millisecond, ""},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			opts := testOptions(t, tt.mode)
			opts.Protocol = upstream.ProtocolAuto
			opts.ProbeTimeout = tt.timeout
			h := newHarness(t, opts, true)
			if got := h.c.learned.Load(); got != tt.want {
				t.Errorf("remembered %q, want %q", got, tt.want)
			}
		})
	}
}
