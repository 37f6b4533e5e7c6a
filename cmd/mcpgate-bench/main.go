// Command mcpgate-bench measures MCP servers and gateways: a load client for
// Streamable HTTP, legacy HTTP+SSE, stateless 2026-07-28 requests and stdio,
// the baseline servers it compares against, and the suite that `make bench`
// runs.
//
//	mcpgate-bench load  -url URL [-transport streamable|sse|stateless] [-c 16] [-d 10s] [-sessions N] [-H "Name: value"]
//	mcpgate-bench load  -stdio "CMD ARGS" [-c 16] [-d 10s]     (a stdio server, directly)
//	mcpgate-bench churn -url URL [-c 16] [-d 10s] [-H "Name: value"]   (initialize → call → delete)
//	mcpgate-bench idle  -url URL -pid PID [-streams 1000]      (hold streams open, read RSS)
//	mcpgate-bench suite [-mcpgate bin/mcpgate] [-d 5s]         (the table of docs/performance.md)
//	mcpgate-bench http-floor [-listen 127.0.0.1:0]             (raw HTTP floor server)
//	mcpgate-bench stdio-floor                                  (trivial stdio MCP server)
//
// Every mode calls one tool (echo by default) with fixed arguments and
// reports requests per second, latency percentiles and errors. The load
// stays on the given URL (loopback in the suite), bounded in concurrency
// and time.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "load":
		return cmdLoad(args, stdout, stderr)
	case "churn":
		return cmdChurn(args, stdout, stderr)
	case "idle":
		return cmdIdle(args, stdout, stderr)
	case "suite":
		return cmdSuite(args, stdout, stderr)
	case "http-floor":
		return cmdHTTPFloor(args, stdout, stderr)
	case "stdio-floor":
		return cmdStdioFloor(stdin, stdout)
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "mcpgate-bench: unknown command %q\n\n", cmd)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `mcpgate-bench — load client and benchmark suite for MCP servers and gateways

Usage:
  mcpgate-bench load  -url URL [-transport streamable|sse|stateless] [-c 16] [-d 10s] [-sessions N] [-H "Name: value"]
  mcpgate-bench load  -stdio "CMD ARGS" [-c 16] [-d 10s]
  mcpgate-bench churn -url URL [-c 16] [-d 10s] [-H "Name: value"]
  mcpgate-bench idle  -url URL -pid PID [-streams 1000] [-transport streamable|sse]
  mcpgate-bench suite [-mcpgate bin/mcpgate] [-d 5s] [-passes 2]
  mcpgate-bench http-floor [-listen 127.0.0.1:0]
  mcpgate-bench stdio-floor

Run "mcpgate-bench <command> -h" for its flags. docs/performance.md explains
the suite and holds its latest results.
`)
}
