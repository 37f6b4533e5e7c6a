package main

import (
	"context"
	"fmt"
	"io"
)

// demoHTTP is the demo upstream served directly over Streamable HTTP
// (`mcpgate demo-server --listen`, no gateway) and mcpgate in front of it
// as a remote `type: http` upstream: the suite's demo-http and
// gw-demo-http rows, measured in the passes like the others.
type demoHTTP struct {
	direct *child // mcpgate demo-server --listen
	gw     *child // mcpgate with direct as its upstream
	na     string // why the rows are not measured; "" when both run
}

// startDemoHTTP starts both servers; on failure it reports why in na (an
// mcpgate binary without demo-server --listen gives n/a rows, not a
// failed suite).
func startDemoHTTP(ctx context.Context, o suiteOptions, dir string, progress io.Writer) *demoHTTP {
	d := &demoHTTP{}
	var err error
	d.direct, err = startListening(ctx, dir, "demo-http",
		[]string{o.mcpgate, "demo-server", "--listen", "127.0.0.1:0", "--max-sessions", "100000"})
	if err != nil {
		fmt.Fprintf(progress, "warning: %v\n", err)
		d.na = "n/a (mcpgate demo-server --listen did not start)"
		return d
	}
	if d.gw, err = startGateway(ctx, o.mcpgate, dir, "mcpgate-demo-http", []string{d.direct.url}); err != nil {
		fmt.Fprintf(progress, "warning: %v\n", err)
		d.na = "n/a (mcpgate in front of the HTTP demo did not start)"
	}
	return d
}

// stop stops both servers; a nil d or a server that did not start is
// skipped.
func (d *demoHTTP) stop() {
	if d == nil {
		return
	}
	d.gw.stop()
	d.direct.stop()
}

// row returns the suite's row key: "demo-http" (the demo served directly
// over HTTP) or "gw-demo-http" (mcpgate in front of it).
func (d *demoHTTP) row(key string, c int) *row {
	r := &row{key: key, label: "demo upstream, direct (HTTP)", na: "n/a (not started)"}
	gw := key == "gw-demo-http"
	if gw {
		r.label, r.direct = "mcpgate → demo upstream (HTTP, remote upstream)", "demo-http"
	}
	if d == nil {
		return r
	}
	ch := d.direct
	if gw {
		ch = d.gw
	}
	if r.na = d.na; r.na == "" && ch != nil {
		r.run = loadRun(target{Transport: transportStreamable, URL: ch.url}, c, ch.pid()) // peers.go
	}
	return r
}
