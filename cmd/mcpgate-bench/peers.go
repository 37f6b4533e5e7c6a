package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Peers are other gateways the suite measures side by side with mcpgate,
// interleaved with its other rows, so that the relative targets of issue 7
// are judged in one run on one machine (bench/peers, scripts/bench.sh):
//
//   - the minimal mcp-go gateway (bench/peers/mcpgo-gateway): an mcp-go
//     Streamable HTTP server in front of one shared mcp-go stdio client,
//     loaded like mcpgate over Streamable HTTP, one session per worker;
//   - supergateway (npm, bench/peers/package.json) in its SSE mode, its
//     best: one stdio child for every session, and every response sent to
//     every session's stream. It is loaded through the legacy SSE client
//     with one session that every worker shares, since each further session
//     only adds a copy of every response for it to send (request ids are
//     unique across workers, see ids, so no worker takes another's
//     response for its own).

// peerOptions say where the peers are; scripts/bench.sh fills them in.
type peerOptions struct {
	// mcpgo is the mcp-go gateway binary; "" means not installed.
	mcpgo string
	// supergateway is the command that runs supergateway, split on spaces;
	// "" means not installed.
	supergateway string
	// mcpgoMissing and supergatewayMissing say why a peer is not
	// installed, for its rows; "" says nothing more.
	mcpgoMissing, supergatewayMissing string
}

func (p *peerOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&p.mcpgo, "peer-mcpgo", "", `the minimal mcp-go gateway binary (bench/peers/mcpgo-gateway; "" skips its rows)`)
	fs.StringVar(&p.supergateway, "peer-supergateway", "", `the command running supergateway, e.g. "node .../supergateway/dist/index.js" ("" skips its rows)`)
	fs.StringVar(&p.mcpgoMissing, "peer-mcpgo-missing", "", "why the mcp-go gateway is not installed (shown in its rows)")
	fs.StringVar(&p.supergatewayMissing, "peer-supergateway-missing", "", "why supergateway is not installed (shown in its rows)")
}

// Which peer a row measures.
const (
	peerMCPGo        = "mcpgo"
	peerSupergateway = "supergateway"
)

// peerRowSpecs are the peers' rows, in the order of a pass (after
// "gw-everything"); upstream is "floor" or "everything".
var peerRowSpecs = []struct{ key, label, direct, peer, upstream string }{
	{"mcpgo-floor", "mcp-go minimal gateway → stdio floor", "floor-stdio", peerMCPGo, "floor"},
	{"sg-floor", "supergateway (SSE) → stdio floor", "floor-stdio", peerSupergateway, "floor"},
	{"mcpgo-everything", "mcp-go minimal gateway → server-everything", "everything-direct", peerMCPGo, "everything"},
	{"sg-everything", "supergateway (SSE) → server-everything", "everything-direct", peerSupergateway, "everything"},
}

// peerSet holds the peers started for a suite run, by row key.
type peerSet struct {
	children map[string]*child
	na       map[string]string // why a row is not measured
}

// startPeers starts each installed peer in front of the stdio floor and,
// unless everythingNA says why not, server-everything. A peer that fails
// to start is reported in its row, not as a failure of the suite.
func startPeers(ctx context.Context, o suiteOptions, dir string, floorCmd []string, everythingNA string, progress io.Writer) *peerSet {
	ps := &peerSet{children: map[string]*child{}, na: map[string]string{}}
	for _, spec := range peerRowSpecs {
		upstream := floorCmd
		if spec.upstream == "everything" {
			if everythingNA != "" {
				ps.na[spec.key] = everythingNA
				continue
			}
			upstream = o.everything
		}
		var ch *child
		var err error
		switch spec.peer {
		case peerMCPGo:
			if o.peer.mcpgo == "" {
				ps.na[spec.key] = notInstalled(o.peer.mcpgoMissing)
				continue
			}
			ch, err = startListening(ctx, dir, spec.key, append([]string{o.peer.mcpgo, "-listen", "127.0.0.1:0"}, upstream...))
		case peerSupergateway:
			if strings.TrimSpace(o.peer.supergateway) == "" {
				ps.na[spec.key] = notInstalled(o.peer.supergatewayMissing)
				continue
			}
			ch, err = startSupergateway(ctx, strings.Fields(o.peer.supergateway), dir, spec.key, upstream)
		}
		if err != nil {
			fmt.Fprintf(progress, "warning: %v\n", err)
			ps.na[spec.key] = "n/a (the peer could not start: see the warning above)"
			continue
		}
		ps.children[spec.key] = ch
	}
	return ps
}

// notInstalled is the n/a note of a peer that is not installed.
func notInstalled(why string) string {
	if why == "" {
		return "n/a (peer not installed)"
	}
	return "n/a (peer not installed: " + why + ")"
}

// stop stops every peer; a nil set has none.
func (ps *peerSet) stop() {
	if ps == nil {
		return
	}
	for _, ch := range ps.children {
		ch.stop()
	}
}

// withPeerRows returns rows with the peers' rows inserted after
// "gw-everything" (or at the end): measured when o.peers started them,
// n/a otherwise.
func withPeerRows(rows []*row, o suiteOptions) []*row {
	var prs []*row
	for _, spec := range peerRowSpecs {
		r := &row{key: spec.key, label: spec.label, direct: spec.direct, na: notInstalled("")}
		if o.peers != nil {
			r.na = o.peers.na[spec.key]
			if ch := o.peers.children[spec.key]; ch != nil {
				t := target{Transport: transportStreamable, URL: ch.url}
				if spec.peer == peerSupergateway {
					t = target{Transport: transportSSE, URL: ch.url, Sessions: 1}
				}
				r.run = loadRun(t, o.concurrency, ch.pid())
			} else if r.na == "" {
				r.na = notInstalled("")
			}
		}
		prs = append(prs, r)
	}
	at := len(rows)
	for i, r := range rows {
		if r.key == "gw-everything" {
			at = i + 1
		}
	}
	out := make([]*row, 0, len(rows)+len(prs))
	out = append(out, rows[:at]...)
	out = append(out, prs...)
	return append(out, rows[at:]...)
}

// loadRun returns a row's run: c workers calling t.Call (defaultCall when
// unset) on t, with the CPU time of pids reported per call.
func loadRun(t target, c int, pids ...int) func(context.Context, time.Duration, time.Duration) (*result, error) {
	if t.Call.Name == "" {
		t.Call = defaultCall
	}
	return func(ctx context.Context, warmup, d time.Duration) (*result, error) {
		return runTarget(ctx, t, c, warmup, d, pids...)
	}
}

// startSupergateway runs supergateway (its command sg) in its SSE mode in
// front of the stdio server upstream, on a free loopback port, and waits
// until its health endpoint answers. Its url is the SSE endpoint. It runs
// the upstream through a shell, so the arguments are quoted for one.
func startSupergateway(ctx context.Context, sg []string, dir, name string, upstream []string) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	quoted := make([]string, len(upstream))
	for i, a := range upstream {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	// --logLevel none: at its default level it logs every message.
	argv := append(append([]string(nil), sg...), "--stdio", strings.Join(quoted, " "), "--outputTransport", "sse",
		"--port", strconv.Itoa(port), "--logLevel", "none", "--healthEndpoint", "/healthz")
	c, err := start(name, dir, argv, nil)
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHealthy(ctx, base+"/healthz", "ok", c.exited); err != nil {
		c.stop()
		return nil, c.failure(err)
	}
	c.url = base + "/sse"
	return c, nil
}

// peerGoals are the targets of issue 7 that compare mcpgate with a peer
// measured in the same run: mcpgate's req/s over the peer's, against want.
func peerGoals(get func(string) *row) []goal {
	var ts []goal
	for _, t := range []struct {
		name, gw, peer string
		want           float64
	}{
		{"mcpgate → server-everything ÷ mcp-go gateway → server-everything, same run: ≥ 1.2", "gw-everything", "mcpgo-everything", 1.2},
		{"mcpgate → server-everything ÷ supergateway (SSE) → server-everything, same run: ≥ 4", "gw-everything", "sg-everything", 4},
		{"mcpgate → stdio floor ÷ mcp-go gateway → stdio floor, same run: ≥ 1.25", "gw-floor", "mcpgo-floor", 1.25},
	} {
		gw, peer := get(t.gw), get(t.peer)
		switch {
		case !peer.ok():
			ts = append(ts, goal{t.name, peer.na, "n/a"})
		case !gw.ok() || peer.rps() == 0:
			ts = append(ts, goal{t.name, gw.na, "n/a"})
		default:
			f := gw.rps() / peer.rps()
			ts = append(ts, goal{t.name, fmt.Sprintf("%.0f ÷ %.0f req/s = %.2f ×%s", gw.rps(), peer.rps(), f, perPass(gw, peer)), verdict(f >= t.want)})
		}
	}
	return ts
}
