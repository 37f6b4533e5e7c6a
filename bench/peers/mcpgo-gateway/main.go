// Command mcpgo-gateway is a minimal MCP gateway built on mark3labs/mcp-go,
// the reference design of issue 7: one mcp-go Streamable HTTP server in
// front of one shared mcp-go stdio client, forwarding tools/call only —
// roughly what mcp-go-based proxies do. It exists only to be measured side
// by side with mcpgate by the benchmark suite (cmd/mcpgate-bench suite,
// scripts/bench.sh); it is not part of mcpgate and is not meant for use.
//
//	mcpgo-gateway [-listen 127.0.0.1:0] [-path /mcp] UPSTREAM-COMMAND [ARGS...]
//
// At start it runs the upstream, initializes it, lists its tools and
// registers each one with a handler that forwards tools/call through the
// shared client. Then it prints "listening on http://ADDR" as its first line
// on stdout and serves until SIGINT or SIGTERM.
//
// It is a module of its own (bench/peers/mcpgo-gateway/go.mod), so that
// mcpgate's module does not depend on mcp-go and `go test ./...` at the
// repository root does not build it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

func main() {
	fs := flag.NewFlagSet("mcpgo-gateway", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve Streamable HTTP on")
	path := fs.String("path", "/mcp", "the MCP endpoint's path")
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mcpgo-gateway [-listen ADDR] [-path /mcp] UPSTREAM-COMMAND [ARGS...]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(ctx, log, *listen, *path, fs.Args(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mcpgo-gateway:", err)
		os.Exit(1)
	}
}

// run starts the upstream, registers its tools, and serves until ctx ends.
func run(ctx context.Context, log *slog.Logger, listen, path string, upstream []string, stdout io.Writer) error {
	up, err := client.NewStdioMCPClient(upstream[0], os.Environ(), upstream[1:]...)
	if err != nil {
		return fmt.Errorf("starting the upstream: %w", err)
	}
	defer up.Close()

	mcpServer := server.NewMCPServer("mcpgo-gateway", "1", server.WithToolCapabilities(false))
	if err := addUpstreamTools(ctx, up, mcpServer); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(path, server.NewStreamableHTTPServer(mcpServer,
		server.WithEndpointPath(path), server.WithStreamableHTTPLogger(log)))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// addUpstreamTools initializes the upstream through up, lists its tools and
// registers each one on s with a handler that forwards its calls to up.
func addUpstreamTools(ctx context.Context, up *client.Client, s *server.MCPServer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var init mcp.InitializeRequest
	init.Params.ClientInfo = mcp.Implementation{Name: "mcpgo-gateway", Version: "1"}
	if _, err := up.Initialize(ctx, init); err != nil {
		return fmt.Errorf("initializing the upstream: %w", err)
	}
	tools, err := up.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return fmt.Errorf("listing the upstream's tools: %w", err)
	}
	if len(tools.Tools) == 0 {
		return errors.New("the upstream lists no tools")
	}
	for _, tool := range tools.Tools {
		s.AddTool(tool, forward(up))
	}
	return nil
}

// forward returns a handler that makes the same tools/call on up, the one
// client every session shares.
func forward(up *client.Client) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var call mcp.CallToolRequest
		call.Params.Name = req.Params.Name
		call.Params.Arguments = req.Params.Arguments
		return up.CallTool(ctx, call)
	}
}
