package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// suiteOptions configure the suite.
type suiteOptions struct {
	mcpgate     string        // the gateway binary
	self        string        // this binary: the floors
	duration    time.Duration // measured time per run
	passes      int           // interleaved passes; figures are their mean
	concurrency int           // workers of the throughput and churn runs
	idleStreams int           // streams held by the idle runs; 0 skips them
	everything  []string      // the server-everything command; empty skips its rows
	keep        bool          // keep the work directory (configs and logs)
	idleCapped  string        // why idleStreams is below what was asked, if it is
	peer        peerOptions   // where the peers are (peers.go)
	peers       *peerSet      // the peers started for this run; nil: none
	demoHTTP    *demoHTTP     // the demo over HTTP and mcpgate in front of it (demohttp.go)
	deploy      *deployments  // mcpgate with a bearer token, and with three upstreams (deployments.go)
}

// rowKind says what a row measures and so which table it goes in.
type rowKind uint8

const (
	kindThroughput rowKind = iota // req/s at opts.concurrency
	kindLatency                   // latency at concurrency 1
	kindChurn                     // sessions/s
)

// row is one measured scenario: the same run in every pass.
type row struct {
	key, label string
	kind       rowKind
	direct     string // the key of the row it is compared with as "direct"
	run        func(ctx context.Context, warmup, d time.Duration) (*result, error)
	na         string // why it is not measured (set up front or by a failed first run)
	results    []*result
}

func cmdSuite(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o suiteOptions
	fs.StringVar(&o.mcpgate, "mcpgate", "bin/mcpgate", "the mcpgate binary to measure")
	fs.DurationVar(&o.duration, "d", 5*time.Second, "measured duration of each run")
	fs.IntVar(&o.passes, "passes", 2, "interleaved passes (figures are their mean)")
	fs.IntVar(&o.concurrency, "c", 16, "concurrent workers of the throughput and churn runs")
	fs.IntVar(&o.idleStreams, "idle-streams", 20000, "idle SSE streams to hold per server (0 skips the idle runs)")
	everything := fs.String("everything", "", `the server-everything stdio command, e.g. "node .../dist/index.js stdio" ("" skips its rows)`)
	procs := fs.Int("procs", 0, "GOMAXPROCS of the load client (0: the Go default)")
	o.peer.register(fs)
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory with the configurations and server logs")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if o.duration <= 0 || o.passes < 1 || o.concurrency < 1 || o.idleStreams < 0 {
		fmt.Fprintln(stderr, "mcpgate-bench suite: -d, -passes and -c must be positive")
		return exitUsage
	}
	if *procs > 0 {
		setProcs(*procs)
	}
	o.everything = strings.Fields(*everything)
	var err error
	if o.self, err = os.Executable(); err != nil {
		fmt.Fprintln(stderr, "mcpgate-bench suite:", err)
		return exitFailure
	}
	if o.mcpgate, err = filepath.Abs(o.mcpgate); err != nil {
		fmt.Fprintln(stderr, "mcpgate-bench suite:", err)
		return exitFailure
	}
	ctx, stop := signalContext()
	defer stop()
	if err := runSuite(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "mcpgate-bench suite:", err)
		return exitFailure
	}
	return exitOK
}

func runSuite(ctx context.Context, o suiteOptions, stdout, progress io.Writer) error {
	if o.idleStreams > 0 {
		// The idle runs hold every stream's socket here and in the server.
		// Without the privilege to raise the hard limit, they hold what it
		// allows, less room for the server's own files.
		if err := raiseFileLimit(o.idleStreams + 1024); err != nil {
			limit, lerr := fileLimit()
			switch {
			case lerr != nil || limit < 1100:
				fmt.Fprintf(progress, "warning: %v; skipping the idle runs\n", err)
				o.idleStreams = 0
			case limit-100 < o.idleStreams:
				fmt.Fprintf(progress, "warning: open-file limit %d: holding %d idle streams, not %d\n", limit, limit-100, o.idleStreams)
				o.idleCapped = fmt.Sprintf("%d: the open-file limit is %d", limit-100, limit)
				o.idleStreams = limit - 100
			}
		}
	}
	dir, err := os.MkdirTemp("", "mcpgate-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(progress, "work directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	m := readMachine()
	m.loadBefore = readLoadAvg()
	fmt.Fprintf(progress, "machine: %s; load average %s\n", m, m.loadBefore)

	// The servers of the throughput runs, all up before the first pass.
	floorCmd := []string{o.self, "stdio-floor"}
	demoCmd := []string{o.mcpgate, "demo-server"}
	httpFloor, err := startHTTPFloor(ctx, o.self, dir, "http-floor")
	if err != nil {
		return err
	}
	defer httpFloor.stop()
	gwFloor, err := startGateway(ctx, o.mcpgate, dir, "mcpgate-floor", floorCmd)
	if err != nil {
		return err
	}
	defer gwFloor.stop()
	gwDemo, err := startGateway(ctx, o.mcpgate, dir, "mcpgate-demo", demoCmd)
	if err != nil {
		return err
	}
	defer gwDemo.stop()
	gwHTTP, err := startGateway(ctx, o.mcpgate, dir, "mcpgate-httpfloor", []string{httpFloor.url})
	if err != nil {
		return err
	}
	defer gwHTTP.stop()
	var gwEverything *child
	everythingNA := "n/a (server-everything not installed: run scripts/interop-setup.sh)"
	if len(o.everything) > 0 {
		if gwEverything, err = startGateway(ctx, o.mcpgate, dir, "mcpgate-everything", o.everything); err != nil {
			fmt.Fprintf(progress, "warning: %v\n", err)
			everythingNA = "n/a (mcpgate could not start server-everything)"
		} else {
			defer gwEverything.stop()
			everythingNA = ""
		}
	}

	o.peers = startPeers(ctx, o, dir, floorCmd, everythingNA, progress)
	defer o.peers.stop()
	o.demoHTTP = startDemoHTTP(ctx, o, dir, progress)
	defer o.demoHTTP.stop()
	o.deploy = startDeployments(ctx, o, dir, floorCmd, progress)
	defer o.deploy.stop()

	rows := suiteRows(o, httpFloor, gwFloor, gwDemo, gwHTTP, gwEverything, floorCmd, demoCmd, everythingNA)
	warmup := min(time.Second, o.duration/5)
	for pass := range o.passes {
		order := rows
		if pass%2 == 1 { // alternate the order, so that drift cancels
			order = reversed(rows)
		}
		for _, r := range order {
			if r.na != "" {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			res, err := r.run(ctx, warmup, o.duration)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r.na = naReason(err)
				fmt.Fprintf(progress, "pass %d/%d %-22s %s\n", pass+1, o.passes, r.key, r.na)
				continue
			}
			r.results = append(r.results, res)
			fmt.Fprintf(progress, "pass %d/%d %-22s %s\n", pass+1, o.passes, r.key, res)
		}
	}
	httpFloor.stop()
	gwFloor.stop()
	gwDemo.stop()
	gwEverything.stop()
	o.peers.stop()
	o.demoHTTP.stop()
	o.deploy.stop()

	var idle []*idleRow
	if o.idleStreams > 0 {
		idle = runIdle(ctx, o, dir, floorCmd, rowByKey(rows, "gw-floor-sse").na == "", progress)
	}
	m.loadAfter = readLoadAvg()
	writeReport(stdout, o, m, rows, idle)
	return ctx.Err()
}

// suiteRows lists the scenarios, in the order of a pass.
func suiteRows(o suiteOptions, httpFloor, gwFloor, gwDemo, gwHTTP, gwEverything *child, floorCmd, demoCmd []string, everythingNA string) []*row {
	c := o.concurrency
	load := loadRun
	churn := func(ch *child) func(context.Context, time.Duration, time.Duration) (*result, error) {
		u, _ := url.Parse(ch.url)
		return func(ctx context.Context, warmup, d time.Duration) (*result, error) {
			return runChurn(ctx, u, defaultCall, nil, c, warmup, d, ch.pid())
		}
	}
	streamable := func(ch *child) target { return target{Transport: transportStreamable, URL: ch.url} }
	stdio := func(argv []string) target { return target{Transport: transportStdio, Command: argv} }
	sseURL := strings.TrimSuffix(gwFloor.url, "/mcp") + "/sse"

	rows := []*row{
		{key: "floor-http", label: "raw HTTP floor (fixed bytes)", run: load(streamable(httpFloor), c, httpFloor.pid())},
		{key: "floor-stdio", label: "stdio floor, direct (fixed bytes)", run: load(stdio(floorCmd), c)},
		{key: "demo-direct", label: "demo upstream, direct (stdio)", run: load(stdio(demoCmd), c)},
		{key: "gw-floor", label: "mcpgate → stdio floor", direct: "floor-stdio", run: load(streamable(gwFloor), c, gwFloor.pid())},
		o.deploy.row(rowAuth, c),
		o.deploy.row(rowNamespaced, c),
		{key: "gw-demo", label: "mcpgate → demo upstream", direct: "demo-direct", run: load(streamable(gwDemo), c, gwDemo.pid())},
		{key: "gw-floor-sse", label: "mcpgate → stdio floor, legacy SSE", direct: "floor-stdio",
			run: load(target{Transport: transportSSE, URL: sseURL}, c, gwFloor.pid())},
		// A legacy client holds one stream and sends all its calls through
		// it: the same sixteen workers as one client of each transport.
		{key: "gw-floor-1s", label: "mcpgate → stdio floor, one session for all workers", direct: "floor-stdio",
			run: load(target{Transport: transportStreamable, URL: gwFloor.url, Sessions: 1}, c, gwFloor.pid())},
		{key: "gw-floor-sse-1s", label: "mcpgate → stdio floor, legacy SSE, one session for all workers", direct: "floor-stdio",
			run: load(target{Transport: transportSSE, URL: sseURL, Sessions: 1}, c, gwFloor.pid())},
		{key: "gw-floor-stateless", label: "mcpgate → stdio floor, stateless 2026-07-28", direct: "floor-stdio",
			run: load(target{Transport: transportStateless, URL: gwFloor.url}, c, gwFloor.pid())},
		{key: "gw-httpfloor", label: "mcpgate → raw HTTP floor (remote upstream)", direct: "floor-http",
			run: load(streamable(gwHTTP), c, gwHTTP.pid())},
		o.demoHTTP.row("demo-http", c),
		o.demoHTTP.row("gw-demo-http", c),
		{key: "everything-direct", label: "server-everything, direct (stdio)", na: everythingNA},
		{key: "gw-everything", label: "mcpgate → server-everything", direct: "everything-direct", na: everythingNA},
		{key: "floor-stdio-c1", label: "stdio floor, direct", kind: kindLatency, run: load(stdio(floorCmd), 1)},
		{key: "gw-floor-c1", label: "mcpgate → stdio floor", kind: kindLatency, direct: "floor-stdio-c1", run: load(streamable(gwFloor), 1)},
		{key: "demo-direct-c1", label: "demo upstream, direct", kind: kindLatency, run: load(stdio(demoCmd), 1)},
		{key: "gw-demo-c1", label: "mcpgate → demo upstream", kind: kindLatency, direct: "demo-direct-c1", run: load(streamable(gwDemo), 1)},
		{key: "churn-floor-http", label: "raw HTTP floor", kind: kindChurn, run: churn(httpFloor)},
		{key: "churn-gw-floor", label: "mcpgate → stdio floor", kind: kindChurn, run: churn(gwFloor)},
	}
	if everythingNA == "" {
		rowByKey(rows, "everything-direct").run = load(stdio(o.everything), c)
		rowByKey(rows, "gw-everything").run = load(streamable(gwEverything), c, gwEverything.pid())
	}
	return withPeerRows(rows, o)
}

// naReason turns the error of a scenario's first run into the n/a note of
// its row: a 404 or 405 means the endpoint or feature is not served.
func naReason(err error) string {
	var se *statusError
	if errors.As(err, &se) {
		switch {
		case se.Status == http.StatusNotFound || se.Status == http.StatusMethodNotAllowed:
			return fmt.Sprintf("n/a (not served yet: HTTP %d)", se.Status)
		case se.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(se.Body), "protocol"):
			return "n/a (not served yet: HTTP 400, protocol version refused)"
		}
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return "n/a (" + msg + ")"
}

func rowByKey(rows []*row, key string) *row {
	for _, r := range rows {
		if r.key == key {
			return r
		}
	}
	panic("no row " + key)
}

func reversed(rows []*row) []*row {
	out := make([]*row, len(rows))
	for i, r := range rows {
		out[len(rows)-1-i] = r
	}
	return out
}

// idleRow is one idle measurement.
type idleRow struct {
	key, label string
	res        *idleResult
	na         string
}

// runIdle measures idle streams on fresh servers: the HTTP floor, mcpgate
// over Streamable HTTP, and mcpgate over legacy SSE when it serves it.
func runIdle(ctx context.Context, o suiteOptions, dir string, floorCmd []string, legacy bool, progress io.Writer) []*idleRow {
	rows := []*idleRow{
		{key: "idle-floor", label: "raw HTTP floor"},
		{key: "idle-gw", label: "mcpgate, Streamable HTTP (session + GET stream)"},
		{key: "idle-gw-sse", label: "mcpgate, legacy SSE (GET /sse)"},
	}
	if !legacy {
		rows[2].na = "n/a (legacy SSE not served yet)"
	}
	for _, r := range rows {
		if r.na != "" || ctx.Err() != nil {
			continue
		}
		var ch *child
		var err error
		transport := transportStreamable
		if r.key == "idle-floor" {
			ch, err = startHTTPFloor(ctx, o.self, dir, "idle-http-floor")
		} else {
			ch, err = startGateway(ctx, o.mcpgate, dir, "idle-"+r.key, floorCmd)
		}
		if err != nil {
			r.na = naReason(err)
			continue
		}
		u, _ := url.Parse(ch.url)
		if r.key == "idle-gw-sse" {
			transport = transportSSE
			u.Path = "/sse"
		}
		r.res, err = measureIdle(ctx, u, transport, ch.pid(), o.idleStreams, 16, 0)
		ch.stop()
		if err != nil {
			r.na = naReason(err)
			fmt.Fprintf(progress, "idle %-12s %s\n", r.key, r.na)
			continue
		}
		fmt.Fprintf(progress, "idle %-12s %s\n", r.key, r.res)
	}
	return rows
}
