package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// loadFlags are the flags every load-making command shares.
type loadFlags struct {
	url         string
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	tool        string
	args        string
	procs       int
	headers     headerFlag // -H, repeatable (headers.go)
}

func (f *loadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "the MCP endpoint, e.g. http://127.0.0.1:8080/mcp (the SSE endpoint for -transport sse)")
	fs.IntVar(&f.concurrency, "c", 16, "concurrent workers, each one request at a time")
	fs.DurationVar(&f.duration, "d", 10*time.Second, "measured duration")
	fs.DurationVar(&f.warmup, "warmup", time.Second, "unmeasured warmup before it")
	fs.StringVar(&f.tool, "tool", defaultCall.Name, "the tool to call")
	fs.StringVar(&f.args, "args", string(defaultCall.Arguments), "the tool's arguments, a JSON object")
	fs.IntVar(&f.procs, "procs", 0, "GOMAXPROCS of the load client (0: the Go default)")
	fs.Var(&f.headers, "H", `an extra header on every HTTP request, "Name: value" (repeatable), e.g. "Authorization: Bearer TOKEN"; never printed`)
}

// check validates the flags and applies -procs.
func (f *loadFlags) check(needURL bool) (toolCall, error) {
	if needURL {
		if _, err := url.Parse(f.url); err != nil || f.url == "" {
			return toolCall{}, fmt.Errorf("-url: need an http:// URL, got %q", f.url)
		}
	}
	if f.headers.err != nil {
		return toolCall{}, f.headers.err
	}
	if f.concurrency < 1 || f.duration <= 0 {
		return toolCall{}, fmt.Errorf("-c must be at least 1 and -d positive")
	}
	if !json.Valid([]byte(f.args)) || !strings.HasPrefix(strings.TrimSpace(f.args), "{") {
		return toolCall{}, fmt.Errorf("-args: need a JSON object, got %q", f.args)
	}
	if f.procs > 0 {
		runtime.GOMAXPROCS(f.procs)
	}
	return toolCall{Name: f.tool, Arguments: json.RawMessage(f.args)}, nil
}

// signalContext ends at SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func cmdLoad(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f loadFlags
	f.register(fs)
	transport := fs.String("transport", transportStreamable, "streamable, sse (legacy HTTP+SSE) or stateless (2026-07-28)")
	stdio := fs.String("stdio", "", `load a stdio server directly instead: "CMD ARGS" (split on spaces)`)
	sessions := fs.Int("sessions", 0, "sessions to open, shared by the workers (0: one per worker; one process for -stdio)")
	pid := fs.Int("pid", 0, "a server process whose CPU time per call to report (0: none)")
	cpuProfile := fs.String("cpuprofile", "", "write the load client's own CPU profile (warmup included) to this file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	t := target{Transport: *transport, URL: f.url, Sessions: *sessions, Stderr: stderr}
	if *stdio != "" {
		t.Transport, t.Command = transportStdio, strings.Fields(*stdio)
	}
	tc, err := f.check(t.Transport != transportStdio)
	if err == nil && t.Transport == transportStdio && f.headers.n > 0 {
		err = fmt.Errorf("-H: a stdio server gets no HTTP requests")
	}
	if err != nil {
		fmt.Fprintln(stderr, "mcpgate-bench load:", err)
		return exitUsage
	}
	t.Call, t.Header = tc, f.headers.h
	ctx, stop := signalContext()
	defer stop()
	var pids []int
	if *pid > 0 {
		pids = append(pids, *pid)
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "mcpgate-bench load:", err)
			return exitFailure
		}
		defer stopProfile()
	}
	r, err := runTarget(ctx, t, f.concurrency, f.warmup, f.duration, pids...)
	if err != nil {
		fmt.Fprintln(stderr, "mcpgate-bench load:", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s c=%d: %s; client CPU %v per call", t.Transport, f.concurrency, r, fmtDur(r.ClientCPUPerCall()))
	if *pid > 0 {
		fmt.Fprintf(stdout, "; server CPU %v per call", fmtDur(r.CPUPerCall()))
	}
	if sp := r.SegmentsPerCall(); sp >= 0 {
		fmt.Fprintf(stdout, "; %.2f TCP segments per call", sp)
	}
	fmt.Fprintln(stdout)
	return exitOK
}

func cmdChurn(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("churn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f loadFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	tc, err := f.check(true)
	if err != nil {
		fmt.Fprintln(stderr, "mcpgate-bench churn:", err)
		return exitUsage
	}
	ctx, stop := signalContext()
	defer stop()
	u, _ := url.Parse(f.url) // checked
	r, err := runChurn(ctx, u, tc, f.headers.h, f.concurrency, f.warmup, f.duration)
	if err != nil {
		fmt.Fprintln(stderr, "mcpgate-bench churn:", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "churn c=%d: %.0f sessions/s; per session (initialize, initialized, call, delete): %s\n", f.concurrency, r.RPS(), r)
	return exitOK
}

func cmdIdle(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", "", "the MCP endpoint (streamable) or the SSE endpoint (sse)")
	transport := fs.String("transport", transportStreamable, "streamable (a session's GET stream each) or sse (legacy)")
	pid := fs.Int("pid", 0, "the server's process id, whose RSS is read")
	streams := fs.Int("streams", 1000, "idle streams to hold open")
	par := fs.Int("parallel", 16, "streams opened at a time")
	hold := fs.Duration("hold", 0, "how long to keep the streams open after measuring")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	u, err := url.Parse(*rawURL)
	if err != nil || u.Host == "" || *pid <= 0 || *streams < 1 {
		fmt.Fprintln(stderr, "mcpgate-bench idle: need -url, -pid and a positive -streams")
		return exitUsage
	}
	if err := raiseFileLimit(*streams + 64); err != nil {
		fmt.Fprintln(stderr, "mcpgate-bench idle:", err)
		return exitFailure
	}
	ctx, stop := signalContext()
	defer stop()
	r, err := measureIdle(ctx, u, *transport, *pid, *streams, *par, *hold)
	if err != nil {
		fmt.Fprintln(stderr, "mcpgate-bench idle:", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, r)
	return exitOK
}

// fileLimit raises this process's open-file limit (and so its
// children's) as far as its hard limit allows, and returns it.
func fileLimit() (int, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("reading the open-file limit: %w", err)
	}
	// Set it even when Go raised it already at start-up: an explicit
	// Setrlimit is what children inherit (os/exec otherwise restores the
	// original soft limit in them).
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("raising the open-file limit: %w", err)
	}
	return int(min(lim.Cur, 1<<30)), nil
}

// raiseFileLimit raises this process's open-file limit to at least n (and
// so its children's), when the hard limit or privileges allow.
func raiseFileLimit(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("reading the open-file limit: %w", err)
	}
	if lim.Cur >= uint64(n) {
		return nil
	}
	want := lim
	want.Cur = uint64(n)
	if want.Max < want.Cur {
		want.Max = want.Cur // needs CAP_SYS_RESOURCE
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return fmt.Errorf("raising the open-file limit from %d to %d: %w (run as root or raise ulimit -Hn)", lim.Cur, n, err)
	}
	return nil
}
