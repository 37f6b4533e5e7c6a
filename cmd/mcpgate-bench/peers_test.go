package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeChild is a child that stands for a started server in row tests.
func fakeChild(url string) *child {
	return &child{url: url, cmd: &exec.Cmd{Process: &os.Process{Pid: os.Getpid()}}}
}

// TestPeerRows: the peers' rows follow mcpgate → server-everything in a
// pass, are measured only when their peer started, and otherwise say why.
func TestPeerRows(t *testing.T) {
	me := fakeChild("http://127.0.0.1:1/mcp")
	evNA := "n/a (server-everything not installed)"
	tests := []struct {
		name   string
		peers  *peerSet
		wantNA map[string]string // by row key; "" means measured
	}{
		{"no peers started", nil, map[string]string{
			"mcpgo-floor": "n/a (peer not installed)", "sg-floor": "n/a (peer not installed)",
			"mcpgo-everything": "n/a (peer not installed)", "sg-everything": "n/a (peer not installed)",
		}},
		{"mcp-go in front of the floor only", &peerSet{
			children: map[string]*child{"mcpgo-floor": me},
			na: map[string]string{"sg-floor": notInstalled("npm ci failed"), "mcpgo-everything": evNA,
				"sg-everything": evNA},
		}, map[string]string{
			"mcpgo-floor": "", "sg-floor": "n/a (peer not installed: npm ci failed)",
			"mcpgo-everything": evNA, "sg-everything": evNA,
		}},
		{"every peer", &peerSet{children: map[string]*child{"mcpgo-floor": me, "sg-floor": me, "mcpgo-everything": me, "sg-everything": me}},
			map[string]string{"mcpgo-floor": "", "sg-floor": "", "mcpgo-everything": "", "sg-everything": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := suiteOptions{concurrency: 2, peers: tt.peers}
			rows := suiteRows(o, me, me, me, me, nil, []string{"floor"}, []string{"demo"}, evNA)
			var keys []string
			for _, r := range rows {
				keys = append(keys, r.key)
			}
			order := strings.Join(keys, " ")
			if want := "gw-everything mcpgo-floor sg-floor mcpgo-everything sg-everything floor-stdio-c1"; !strings.Contains(order, want) {
				t.Errorf("row order %q, want %q in it", order, want)
			}
			for key, want := range tt.wantNA {
				r := rowByKey(rows, key)
				if r.na != want || (r.run != nil) != (want == "") {
					t.Errorf("row %s: na %q, run set %v; want na %q", key, r.na, r.run != nil, want)
				}
			}
		})
	}
}

// TestPeerTargets renders the report with measured and absent peers and
// checks the side-by-side rows of the targets table.
func TestPeerTargets(t *testing.T) {
	me := fakeChild("http://127.0.0.1:1/mcp")
	o := suiteOptions{concurrency: 2, passes: 1, duration: time.Second, peers: &peerSet{
		children: map[string]*child{"mcpgo-floor": me, "mcpgo-everything": me},
		na:       map[string]string{"sg-floor": notInstalled(""), "sg-everything": notInstalled("")},
	}}
	rows := suiteRows(o, me, me, me, me, me, []string{"floor"}, []string{"demo"}, "")
	measured := func(key string, calls int) {
		rowByKey(rows, key).results = []*result{{Calls: calls, Elapsed: time.Second, Latency: []time.Duration{time.Millisecond}}}
	}
	measured("floor-http", 30000)
	measured("gw-floor", 15000)
	measured("mcpgo-floor", 10000)
	measured("gw-everything", 5000)
	measured("mcpgo-everything", 4500)
	var out bytes.Buffer
	writeReport(&out, o, machine{}, rows, nil)
	for _, want := range []string{
		"| mcp-go minimal gateway → stdio floor | 10000 | 0.33 |",
		"| supergateway (SSE) → server-everything | n/a (peer not installed) |",
		"| mcpgate → server-everything ÷ mcp-go gateway → server-everything, same run: ≥ 1.2 | 5000 ÷ 4500 req/s = 1.11 × | **not met** |",
		"| mcpgate → server-everything ÷ supergateway (SSE) → server-everything, same run: ≥ 4 | n/a (peer not installed) | n/a |",
		"| mcpgate → stdio floor ÷ mcp-go gateway → stdio floor, same run: ≥ 1.25 | 15000 ÷ 10000 req/s = 1.50 × | met |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q; got:\n%s", want, out.String())
		}
	}
}

// TestLoadLegacyBroadcast loads a server that, like supergateway, sends
// every response to every session, and refuses a tools/call id used
// before by any session: no worker may take another's response, and ids
// must be unique across workers, in both session layouts.
func TestLoadLegacyBroadcast(t *testing.T) {
	for _, sessions := range []int{1, 0} {
		srv := legacyServerWith(t, true)
		ctx, cancel := context.WithCancel(t.Context())
		r, err := runTarget(ctx, target{Transport: transportSSE, URL: srv.URL + "/sse", Call: defaultCall, Sessions: sessions}, 4, 0, testRun)
		cancel()
		checkRun(t, r, err)
	}
}

// TestMCPGoPeer builds the mcp-go gateway (bench/peers/mcpgo-gateway, a
// module of its own) and loads it for a second in front of the stdio
// floor, as the suite does. It skips when the peer's modules cannot be
// downloaded (no network and no module cache); a build that fails once
// they are there fails the test.
func TestMCPGoPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module: not in -short")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "bench", "peers", "mcpgo-gateway"))
	if err != nil {
		t.Fatal(err)
	}
	goCmd := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(t.Context(), "go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
		return cmd.CombinedOutput()
	}
	if out, err := goCmd("mod", "download"); err != nil {
		t.Skipf("the mcp-go peer cannot be built here: go mod download: %v\n%s", err, out)
	}
	bin := filepath.Join(t.TempDir(), "mcpgo-gateway")
	if out, err := goCmd("build", "-o", bin, "."); err != nil {
		t.Fatalf("building the mcp-go peer: %v\n%s", err, out)
	}
	ch, err := startListening(t.Context(), t.TempDir(), "mcpgo-floor", append([]string{bin, "-listen", "127.0.0.1:0"}, stdioFloorCommand(t)...))
	if err != nil {
		t.Fatal(err)
	}
	defer ch.stop()
	r, err := loadRun(target{Transport: transportStreamable, URL: ch.url}, 4, ch.pid())(t.Context(), 0, time.Second)
	checkRun(t, r, err)
	if r.CPU <= 0 {
		t.Errorf("the peer's CPU time per call was not measured: %v", r.CPU)
	}
}

// TestSupergatewayPeer loads supergateway in front of the stdio floor as
// the suite does. It needs node and bench/peers installed (npm ci --prefix
// bench/peers, which scripts/bench.sh runs and CI does not), and skips
// without them.
func TestSupergatewayPeer(t *testing.T) {
	js, err := filepath.Abs(filepath.Join("..", "..", "bench", "peers", "node_modules", "supergateway", "dist", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	preload := filepath.Join(filepath.Dir(js), "..", "..", "..", "loopback.cjs")
	if _, err := os.Stat(js); err != nil {
		t.Skip("supergateway is not installed (npm ci --prefix bench/peers)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	ch, err := startSupergateway(t.Context(), []string{node, "-r", preload, js}, t.TempDir(), "sg-floor", stdioFloorCommand(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ch.stop()
	r, err := loadRun(target{Transport: transportSSE, URL: ch.url, Sessions: 1}, 4, ch.pid())(t.Context(), 0, testRun)
	checkRun(t, r, err)
}

// TestPerPassRatios: with several passes, a target shows the ratio of each
// pass next to the mean's, so that one disturbed pass is visible.
func TestPerPassRatios(t *testing.T) {
	pass := func(calls int) *result {
		return &result{Calls: calls, Elapsed: time.Second, Latency: []time.Duration{time.Millisecond}}
	}
	gw := &row{key: "gw", results: []*result{pass(14000), pass(10000)}}
	peer := &row{key: "peer", results: []*result{pass(3500), pass(3200)}}
	if got, want := perPass(gw, peer), " (passes: 4.00, 3.12)"; got != want {
		t.Errorf("perPass = %q, want %q", got, want)
	}
	if got := perPass(&row{results: []*result{pass(1)}}, &row{results: []*result{pass(1)}}); got != "" {
		t.Errorf("one pass: perPass = %q, want nothing", got)
	}
}
