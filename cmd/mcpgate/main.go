// Command mcpgate is an MCP gateway: it puts MCP servers behind one secure
// Streamable HTTP endpoint.
//
//	mcpgate                                  serve the built-in demo upstream on 127.0.0.1:8080
//	mcpgate serve --listen ADDR --config F   serve what a YAML file describes
//	mcpgate serve --listen ADDR --stdio CMD  front one stdio MCP server
//	mcpgate serve --listen ADDR --http URL   front one remote MCP server (--sse URL: a 2024-11-05 one)
//	mcpgate demo-server [--era modern]       run the demo MCP server on stdin/stdout
//	mcpgate demo-server --listen ADDR        … or over Streamable HTTP on ADDR/mcp
//	mcpgate hash-token [--new]               print a token's sha256 digest for auth.tokens
//	mcpgate oauth …                          list and revoke OAuth clients and grants
//	mcpgate version                          print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/demo"
	"github.com/mcpgate/mcpgate/internal/gateway"
	"github.com/mcpgate/mcpgate/internal/gctune"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2 // bad flags or a bad configuration
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stdout, stderr)
	case "demo-server":
		return demoServer(args, stdin, stdout, stderr)
	case "hash-token":
		return hashToken(args, stdin, stdout, stderr)
	case "oauth":
		return oauthCmd(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "mcpgate", version)
		return exitOK
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "mcpgate: unknown command %q\n\n", cmd)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `mcpgate — an MCP gateway

Usage:
  mcpgate                                   serve the demo upstream on 127.0.0.1:8080
  mcpgate serve [--listen ADDR] [--config FILE | --stdio "CMD ARGS" | --http URL | --sse URL]
  mcpgate demo-server [--era modern]        run the built-in demo MCP server on stdio
                                            (--era modern: the 2026-07-28 stateless protocol;
                                            --listen ADDR: over Streamable HTTP on ADDR/mcp instead)
  mcpgate hash-token [--new]                hash a token (read from stdin) for auth.tokens, or make one
  mcpgate oauth clients|grants|revoke-grant|revoke-client|gen-key
                                            inspect and revoke OAuth clients and grants (auth mode oauth)
  mcpgate version

Run "mcpgate serve -h" for the serve flags. Configuration: docs/configuration.md.
`)
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen   = fs.String("listen", "", "address to listen on, host:port (default 127.0.0.1:8080)")
		file     = fs.String("config", "", "YAML configuration file")
		stdio    = fs.String("stdio", "", `front one stdio MCP server: "CMD ARGS"`)
		httpURL  = fs.String("http", "", "front one remote Streamable HTTP MCP server: its URL")
		sseURL   = fs.String("sse", "", "front one remote HTTP+SSE (2024-11-05) MCP server: its SSE URL")
		logLevel = fs.String("log-level", "info", "log level: debug, info, warn or error")
		logJSON  = fs.Bool("log-json", false, "write logs as JSON")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mcpgate serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "mcpgate serve: --log-level: %v\n", err)
		return exitUsage
	}
	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler = slog.NewTextHandler(stderr, hopts)
	if *logJSON {
		handler = slog.NewJSONHandler(stderr, hopts)
	}
	log := slog.New(handler)

	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cfg, err := config.Resolve(config.Source{Listen: *listen, ConfigFile: *file, Stdio: *stdio, HTTP: *httpURL, SSE: *sseURL, Executable: exe})
	if err != nil {
		fmt.Fprintln(stderr, "mcpgate:", err)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if gctune.Enabled() {
		// The process's GC percentage belongs to the binary, not to
		// internal/gateway (tests run several gateways in one process).
		gctune.Tune(ctx, gctune.Options{MinHeadroom: cfg.GC.MinHeadroomBytes, Log: log})
	}
	err = gateway.Run(ctx, cfg, gateway.Options{
		Logger:  log,
		Version: version,
		OnListen: func(url string) {
			printBanner(stdout, url, cfg)
		},
	})
	if err != nil {
		log.Error("gateway stopped", "err", err)
		return exitFailure
	}
	return exitOK
}

func printBanner(w io.Writer, url string, cfg *config.Config) {
	names := make([]string, 0, len(cfg.Upstreams))
	for _, u := range cfg.Enabled() {
		names = append(names, u.Name)
	}
	fmt.Fprintf(w, `mcpgate %s is serving MCP at %s/mcp
  upstreams: %s
  health:    %s/health

Connect a client:
  MCP Inspector:   npx @modelcontextprotocol/inspector --transport http --server-url %s/mcp
  Claude Code:     claude mcp add --transport http mcpgate %s/mcp
  any MCP client:  Streamable HTTP, URL %s/mcp
  older clients:   HTTP+SSE (2024-11-05), URL %s/sse

Press Ctrl-C to stop.
`, version, url, strings.Join(names, ", "), url, url, url, url, url)
}

func demoServer(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	eraFlag := fs.String("era", "", `protocol era: "" or "legacy" for the session era (initialize), "modern" or "2026-07-28" for the stateless era`)
	httpFlags := demoHTTPFlags(fs) // demohttp.go
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	era, ok := demo.ParseEra(*eraFlag)
	if !ok {
		fmt.Fprintf(stderr, "mcpgate demo-server: unknown --era %q (want legacy, modern or 2026-07-28)\n", *eraFlag)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if httpFlags.listen != "" {
		return demoServeHTTP(ctx, httpFlags, era, log, stdout, stderr)
	}
	if err := demo.Serve(ctx, stdin, stdout, &demo.Options{Logger: log, Era: era}); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("demo server stopped", "err", err)
		return exitFailure
	}
	return exitOK
}
