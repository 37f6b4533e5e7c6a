package httpup_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/httpup"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
	"github.com/mcpgate/mcpgate/internal/upstream/remote/remotetest"
)

// sdkServerAt serves the SDK's test server over Streamable HTTP, stateless
// (the SDK then serves 2026-07-28) or not (session era only), recorded.
func sdkServerAt(t *testing.T, stateless bool) (string, *remotetest.Wire) {
	t.Helper()
	s := remotetest.SDKServer()
	rc := &remotetest.Wire{Block: "block", Next: mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: stateless})}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return srv.URL, rc
}

func newEraConn(t *testing.T, url string, proto upstream.Protocol, h upstream.Handler) (*remote.Conn, error) {
	t.Helper()
	c, err := httpup.New(remote.Endpoint{
		Conn: remote.Options{
			Name: "sdk", Protocol: proto, InitTimeout: 5 * time.Second, ProbeTimeout: 5 * time.Second,
			RestartBackoffMin: 20 * time.Millisecond, RestartBackoffMax: 100 * time.Millisecond, ReadyWait: 5 * time.Second,
		},
		URL: url,
	}, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.Start(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c, err
}

// TestEraProbe: which era each configured protocol settles on against the
// Go SDK's HTTP server, stateless (it serves 2026-07-28) or stateful
// (session era only) [SH26 §Backward Compatibility].
func TestEraProbe(t *testing.T) {
	cases := []struct {
		name      string
		stateless bool
		proto     upstream.Protocol
		wantEra   upstream.Era // "" with wantFail
		wantFail  bool
		probed    bool // a server/discover went out
	}{
		{"auto finds a 2026 server", true, upstream.ProtocolAuto, upstream.EraModern, false, true},
		{"auto falls back to initialize", false, upstream.ProtocolAuto, upstream.EraSession, false, true},
		{"modern against a 2026 server", true, upstream.ProtocolModern, upstream.EraModern, false, true},
		{"modern refuses a session-era server", false, upstream.ProtocolModern, "", true, true},
		{"legacy never probes", true, upstream.ProtocolLegacy, upstream.EraSession, false, false},
		{"zero value never probes", false, "", upstream.EraSession, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, rc := sdkServerAt(t, tc.stateless)
			c, err := newEraConn(t, url, tc.proto, nil)
			if tc.wantFail {
				if err == nil {
					t.Fatal("Start succeeded")
				}
			} else if err != nil {
				t.Fatalf("Start: %v", err)
			} else if info := c.Info(); info.Era != tc.wantEra {
				t.Fatalf("era %q, want %q", info.Era, tc.wantEra)
			}
			probed := false
			for _, s := range rc.All() {
				probed = probed || s.Header.Get("Mcp-Method") == "server/discover"
			}
			if probed != tc.probed {
				t.Errorf("probed = %v, want %v", probed, tc.probed)
			}
		})
	}
}

// TestModernWire: a modern session's requests carry the request metadata
// headers (Mcp-Param-* from the call's context), no session id; there is
// no GET stream and no DELETE; and a cancelled call closes its POST
// without a notifications/cancelled [SH26 §Cancellation].
func TestModernWire(t *testing.T) {
	url, rc := sdkServerAt(t, true)
	c, err := newEraConn(t, url, upstream.ProtocolAuto, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := upstream.WithParamHeaders(context.Background(), []upstream.ParamHeader{{Name: "trace", Value: "t-1"}})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := c.Call(ctx, "tools/call", []byte(`{"name":"echo","arguments":{"message":"modern"}}`))
	if err != nil {
		t.Fatal(err)
	}
	wantText(t, m, "echo: modern")

	wctx, wcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.Call(wctx, "tools/call", []byte(`{"name":"block"}`)); done <- err }()
	waitSeen(t, rc, func(s remotetest.Request) bool { return s.Header.Get("Mcp-Name") == "block" })
	wcancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	waitSeen(t, rc, func(s remotetest.Request) bool { return s.Header.Get("Mcp-Name") == "block" && s.Done && s.Cancelled })

	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := c.Close(ctx2); err != nil {
		t.Fatal(err)
	}
	var echo *remotetest.Request
	for _, s := range rc.All() {
		switch {
		case s.Method != http.MethodPost:
			t.Errorf("%s request in the stateless era", s.Method)
		case s.Header.Get("Mcp-Session-Id") != "":
			t.Error("Mcp-Session-Id sent in the stateless era")
		case s.Header.Get("Mcp-Protocol-Version") != "2026-07-28" || s.Header.Get("Mcp-Method") == "":
			t.Errorf("request without the metadata headers: %v", s.Header)
		case s.Header.Get("Mcp-Method") == "notifications/cancelled":
			t.Error("notifications/cancelled sent over HTTP in the stateless era")
		case s.Header.Get("Mcp-Name") == "echo":
			echo = &s
		}
	}
	if echo == nil || echo.Header.Get("Mcp-Param-Trace") != "t-1" {
		t.Errorf("echo request headers %v: want Mcp-Name echo and Mcp-Param-Trace t-1", echo)
	}
}

// waitSeen waits until the server has seen a request matching ok.
func waitSeen(t *testing.T, rc *remotetest.Wire, ok func(remotetest.Request) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, s := range rc.All() {
			if ok(s) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for a request")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
