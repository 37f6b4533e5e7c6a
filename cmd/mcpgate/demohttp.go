package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/demo"
)

// demoHTTP holds the flags of `mcpgate demo-server --listen`: the demo
// server over Streamable HTTP, directly (no gateway), as the benchmark's
// "demo upstream, direct (HTTP)" and as a remote upstream for tests.
type demoHTTP struct {
	listen      string
	nonLoopback bool
	maxSessions int
}

func demoHTTPFlags(fs *flag.FlagSet) *demoHTTP {
	d := &demoHTTP{}
	fs.StringVar(&d.listen, "listen", "", `serve over Streamable HTTP on this host:port (path /mcp) instead of stdio; "127.0.0.1:0" picks a free port`)
	fs.BoolVar(&d.nonLoopback, "insecure-allow-non-loopback", false, "allow a --listen address that is not loopback (the demo has no authentication)")
	fs.IntVar(&d.maxSessions, "max-sessions", 0, "open sessions at most over HTTP (0: 10000)")
	return d
}

// demoServeHTTP serves the demo over Streamable HTTP until ctx ends. Its
// first line on stdout is "listening on http://ADDR" once it serves.
func demoServeHTTP(ctx context.Context, d *demoHTTP, era string, log *slog.Logger, stdout, stderr io.Writer) int {
	loopback := config.IsLoopbackListen(d.listen)
	if !loopback && !d.nonLoopback {
		fmt.Fprintf(stderr, "mcpgate demo-server: --listen %q is not a loopback address; the demo server has no authentication (--insecure-allow-non-loopback to serve it anyway)\n", d.listen)
		return exitUsage
	}
	if !loopback {
		log.Warn("demo server listening beyond loopback without authentication", "listen", d.listen)
	}
	ln, err := net.Listen("tcp", d.listen)
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate demo-server: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	err = demo.ServeStreamable(ctx, ln, loopback, &demo.HTTPOptions{
		Server:      &demo.Options{Logger: log, Era: era, ServerVersion: version},
		MaxSessions: d.maxSessions,
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("demo server stopped", "err", err)
		return exitFailure
	}
	return exitOK
}
