package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Transports the load client speaks.
const (
	transportStreamable = "streamable" // Streamable HTTP with sessions (2025-11-25)
	transportSSE        = "sse"        // legacy HTTP+SSE (2024-11-05)
	transportStateless  = "stateless"  // sessionless 2026-07-28 requests
	transportStdio      = "stdio"      // a child process, directly
)

// session is one client session against a server; its callers may run
// concurrently, each one call at a time.
type session interface {
	newCaller(ctx context.Context) caller
	close(ctx context.Context) error
}

// caller makes tools/call requests, one at a time, and reports whether
// each got a successful result.
type caller interface {
	call(id int64) error
}

// closer is a caller that holds a connection of its own.
type closer interface{ close() }

// target says what to load and how.
type target struct {
	// Transport is one of the transport constants.
	Transport string
	// URL is the MCP endpoint (streamable, stateless) or the SSE endpoint
	// (sse).
	URL string
	// Command runs the stdio server (stdio).
	Command []string
	// Call is the tool call every request makes.
	Call toolCall
	// Sessions is how many sessions to open; the workers share them round
	// robin. Zero means one per worker (HTTP) or one (stdio, where a
	// session is a process).
	Sessions int
	// Stderr receives a stdio server's stderr. Nil discards it.
	Stderr io.Writer
	// Header holds extra headers sent on every HTTP request (initialize,
	// calls, notifications, DELETE, the legacy GET), such as
	// Authorization; headers the client sets itself are refused
	// (headers.go). Never printed. Nil sends none.
	Header http.Header
}

// open opens t's sessions; client carries the HTTP ones. ctx bounds the
// sessions' lives.
func (t target) open(ctx context.Context, client *http.Client, workers int) ([]session, error) {
	n := t.Sessions
	if n <= 0 {
		n = workers
		if t.Transport == transportStdio {
			n = 1
		}
	}
	var u *url.URL
	if t.Transport != transportStdio {
		var err error
		if u, err = url.Parse(t.URL); err != nil {
			return nil, fmt.Errorf("parsing the URL: %w", err)
		}
	}
	ht, err := newHTTPTarget(u, client, t.Call, t.Header)
	if err != nil {
		return nil, err
	}
	var ss []session
	for range n {
		var s session
		var err error
		switch t.Transport {
		case transportStreamable:
			conn := newH1Conn(ctx, u)
			var ss *streamableSession
			if ss, err = ht.openStreamable(conn, version20251125); err != nil {
				conn.close()
			} else {
				ss.ownsConn = true
				s = ss
			}
		case transportStateless:
			s = ht.statelessSession()
		case transportSSE:
			s, err = ht.openLegacy(ctx, n == workers) // one caller each: it reads its own stream
		case transportStdio:
			s, err = openStdio(ctx, t.Command, t.Call, t.Stderr)
		default:
			err = fmt.Errorf("unknown transport %q", t.Transport)
		}
		if err != nil {
			closeAll(ctx, ss)
			return nil, err
		}
		ss = append(ss, s)
	}
	return ss, nil
}

func closeAll(ctx context.Context, ss []session) {
	for _, s := range ss {
		_ = s.close(ctx)
	}
}

// result is what a load run measured.
type result struct {
	// Calls counts successful calls; Errors failed ones.
	Calls, Errors int
	// Elapsed is the measured time, from the start until the last worker
	// stopped.
	Elapsed time.Duration
	// Latency holds every successful call's latency, sorted.
	Latency []time.Duration
	// FirstErr is the first error seen, if any.
	FirstErr error
	// CPU is the CPU time the watched processes used while measured.
	CPU time.Duration
	// ClientCPU is the CPU time the load client itself used while
	// measured: it shares the machine with the servers it measures.
	ClientCPU time.Duration
	// Segments is the TCP segments the machine sent while measured, -1
	// when unknown (tcpSegments): on loopback, those of the calls, both
	// ways, and of whatever else ran meanwhile.
	Segments int64
}

// SegmentsPerCall is the TCP segments sent per successful call, -1 when
// unknown.
func (r *result) SegmentsPerCall() float64 {
	if r.Segments < 0 || r.Calls == 0 {
		return -1
	}
	return float64(r.Segments) / float64(r.Calls)
}

// CPUPerCall is the watched processes' CPU time per successful call.
func (r *result) CPUPerCall() time.Duration {
	if r.Calls == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Calls)
}

// ClientCPUPerCall is the load client's CPU time per successful call.
func (r *result) ClientCPUPerCall() time.Duration {
	if r.Calls == 0 {
		return 0
	}
	return r.ClientCPU / time.Duration(r.Calls)
}

// RPS is successful calls per second.
func (r *result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Calls) / r.Elapsed.Seconds()
}

// Percentile returns the latency below which a fraction p of the calls
// fall (nearest rank), or 0 with no calls.
func (r *result) Percentile(p float64) time.Duration {
	if len(r.Latency) == 0 {
		return 0
	}
	i := int(p*float64(len(r.Latency))+0.5) - 1
	return r.Latency[min(max(i, 0), len(r.Latency)-1)]
}

func (r *result) String() string {
	s := fmt.Sprintf("%d calls in %v: %.0f req/s, p50 %v, p90 %v, p99 %v, %d errors",
		r.Calls, r.Elapsed.Round(time.Millisecond), r.RPS(),
		fmtDur(r.Percentile(0.50)), fmtDur(r.Percentile(0.90)), fmtDur(r.Percentile(0.99)), r.Errors)
	if r.FirstErr != nil {
		s += fmt.Sprintf(" (first: %v)", r.FirstErr)
	}
	return s
}

// fmtDur rounds d for display: µs precision below 10 ms.
func fmtDur(d time.Duration) string {
	if d < 10*time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}

// ids numbers requests across every worker, so that ids never repeat
// within a session.
var ids atomic.Int64

// drive runs one worker per caller for d (after an unmeasured warmup) and
// returns what they measured, including the CPU time processes pids used.
// Calls in flight at the deadline finish and count. A failing call is
// counted and the worker goes on.
func drive(callers []caller, warmup, d time.Duration, pids ...int) *result {
	if warmup > 0 {
		loop(callers, warmup, false)
	}
	cpu0, self0, segs0 := sumCPU(pids), selfCPU(), tcpSegments()
	r := loop(callers, d, true)
	r.CPU, r.ClientCPU = sumCPU(pids)-cpu0, selfCPU()-self0
	if segs1 := tcpSegments(); segs0 >= 0 && segs1 >= segs0 {
		r.Segments = segs1 - segs0
	} else {
		r.Segments = -1
	}
	return r
}

func sumCPU(pids []int) time.Duration {
	var t time.Duration
	for _, pid := range pids {
		t += cpuTime(pid)
	}
	return t
}

func loop(callers []caller, d time.Duration, measure bool) *result {
	type worker struct {
		calls, errors int
		lat           []time.Duration
		firstErr      error
	}
	ws := make([]worker, len(callers))
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, c := range callers {
		w := &ws[i]
		if measure {
			w.lat = make([]time.Duration, 0, 1<<12)
		}
		wg.Go(func() {
			for {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				err := c.call(ids.Add(1))
				if err != nil {
					w.errors++
					if w.firstErr == nil {
						w.firstErr = err
					}
					continue
				}
				w.calls++
				if measure {
					w.lat = append(w.lat, time.Since(t0))
				}
			}
		})
	}
	wg.Wait()
	r := &result{Elapsed: time.Since(start)}
	n := 0
	for i := range ws {
		n += len(ws[i].lat)
	}
	r.Latency = make([]time.Duration, 0, n)
	for i := range ws {
		w := &ws[i]
		r.Calls += w.calls
		r.Errors += w.errors
		r.Latency = append(r.Latency, w.lat...)
		if r.FirstErr == nil {
			r.FirstErr = w.firstErr
		}
	}
	slices.Sort(r.Latency)
	return r
}

// runTarget opens t's sessions, drives c workers over them for d after
// warmup, and closes them. The result's CPU is what pids used.
func runTarget(ctx context.Context, t target, c int, warmup, d time.Duration, pids ...int) (*result, error) {
	client := newHTTPClient(c)
	defer client.CloseIdleConnections()
	ss, err := t.open(ctx, client, c)
	if err != nil {
		return nil, err
	}
	defer closeAll(context.WithoutCancel(ctx), ss)
	callers := make([]caller, c)
	for i := range callers {
		callers[i] = ss[i%len(ss)].newCaller(ctx)
		if cl, ok := callers[i].(closer); ok {
			defer cl.close()
		}
	}
	// Check the path before measuring it: a target that cannot answer one
	// call is reported as such, not as a run full of errors.
	if err := callers[0].call(ids.Add(1)); err != nil {
		return nil, fmt.Errorf("first call: %w", err)
	}
	r := drive(callers, warmup, d, pids...)
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	return r, nil
}
