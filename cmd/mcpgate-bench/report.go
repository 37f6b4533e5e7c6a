package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// machine describes where the suite ran.
type machine struct {
	cpus                  int
	model                 string
	goVersion             string
	kernel                string
	procs                 int // the load client's GOMAXPROCS
	loadBefore, loadAfter string
}

func readMachine() machine {
	m := machine{cpus: runtime.NumCPU(), goVersion: runtime.Version(), procs: runtime.GOMAXPROCS(0), model: "unknown CPU"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

func (m machine) String() string {
	return fmt.Sprintf("%d × %s, %s, %s, load client GOMAXPROCS=%d", m.cpus, m.model, m.kernel, m.goVersion, m.procs)
}

func readLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func setProcs(n int) { runtime.GOMAXPROCS(n) }

// Reference figures of issue 7, measured on a 2-core machine like ours
// (tools/call of an echo tool, loopback, c=16), as fractions of that
// machine's raw HTTP floor (≈ 35,000 req/s).
const (
	refFloor          = 35000.0
	refMCPGoGateway   = 9400.0 // minimal mcp-go gateway over server-everything
	refSupergatewayOK = 3000.0 // supergateway's best mode (SSE)
)

// mean returns the mean of f over the row's passes.
func (r *row) mean(f func(*result) float64) float64 {
	if len(r.results) == 0 {
		return 0
	}
	s := 0.0
	for _, res := range r.results {
		s += f(res)
	}
	return s / float64(len(r.results))
}

func (r *row) ok() bool { return r.na == "" && len(r.results) > 0 }

// perPass is " (passes: x, y)", the ratio of a's req/s to b's in each
// pass, when there was more than one: rows are interleaved, so the two
// figures of one pass were measured minutes apart at most, and the spread
// shows how much the machine moved under a mean.
func perPass(a, b *row) string {
	n := min(len(a.results), len(b.results))
	if n < 2 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString(" (passes: ")
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		if d := b.results[i].RPS(); d > 0 {
			fmt.Fprintf(&sb, "%.2f", a.results[i].RPS()/d)
		} else {
			sb.WriteString("–")
		}
	}
	sb.WriteString(")")
	return sb.String()
}

func (r *row) rps() float64 { return r.mean((*result).RPS) }

func (r *row) pct(p float64) time.Duration {
	return time.Duration(r.mean(func(res *result) float64 { return float64(res.Percentile(p)) }))
}

func (r *row) errors() int {
	n := 0
	for _, res := range r.results {
		n += res.Errors
	}
	return n
}

// segments is the mean TCP segments per call, or "–" when a pass could not
// read them.
func (r *row) segments() string {
	for _, res := range r.results {
		if res.SegmentsPerCall() < 0 {
			return "–"
		}
	}
	return fmt.Sprintf("%.2f", r.mean((*result).SegmentsPerCall))
}

func (r *row) cpuPerCall() time.Duration {
	return time.Duration(r.mean(func(res *result) float64 { return float64(res.CPUPerCall()) }))
}

// writeReport prints the tables of docs/performance.md and the targets.
func writeReport(w io.Writer, o suiteOptions, m machine, rows []*row, idle []*idleRow) {
	get := func(key string) *row { return rowByKey(rows, key) }
	floor := get("floor-http")
	ratio := func(r, base *row) string {
		if !r.ok() || !base.ok() || base.rps() == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", r.rps()/base.rps())
	}
	fmt.Fprintf(w, "Machine: %s.\n", m)
	fmt.Fprintf(w, "Load average %s before, %s after. Each figure: mean of %d interleaved passes of %v (after a %v warmup), tools/call of `echo`, loopback.\n\n",
		m.loadBefore, m.loadAfter, o.passes, o.duration, min(time.Second, o.duration/5))

	fmt.Fprintf(w, "### Throughput, concurrency %d\n\n", o.concurrency)
	fmt.Fprintln(w, "| Scenario | req/s | × raw floor | × direct | p50 | p90 | p99 | errors | server CPU/call | client CPU/call | TCP segments/call |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		if r.kind != kindThroughput {
			continue
		}
		if !r.ok() {
			fmt.Fprintf(w, "| %s | %s | | | | | | | | | |\n", r.label, r.na)
			continue
		}
		direct, cpu := "–", "–"
		if r.direct != "" {
			direct = ratio(r, get(r.direct))
		}
		if c := r.cpuPerCall(); c > 0 {
			cpu = fmtDur(c)
		}
		client := time.Duration(r.mean(func(res *result) float64 { return float64(res.ClientCPUPerCall()) }))
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %s | %d | %s | %s | %s |\n", r.label, r.rps(), ratio(r, floor), direct,
			fmtDur(r.pct(0.5)), fmtDur(r.pct(0.9)), fmtDur(r.pct(0.99)), r.errors(), cpu, fmtDur(client), r.segments())
	}
	fmt.Fprintln(w, "\nserver CPU/call: CPU time of the server process (the gateway itself, not its upstream) per call.")
	fmt.Fprintln(w, "client CPU/call: CPU time of the load client per call (it shares the two cores with the servers).")
	fmt.Fprintln(w, "TCP segments/call: segments the machine sent per call (/proc/net/snmp), both ways on loopback; each costs both ends CPU.")

	fmt.Fprintln(w, "\n### Latency, concurrency 1")
	fmt.Fprintln(w, "\n| Upstream | direct p50 | via mcpgate p50 | added p50 | direct p99 | via mcpgate p99 | added p99 |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		if r.kind != kindLatency || r.direct == "" {
			continue
		}
		d := get(r.direct)
		if !r.ok() || !d.ok() {
			fmt.Fprintf(w, "| %s | %s | | | | | |\n", r.label, r.na+d.na)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(r.label, "mcpgate → "),
			fmtDur(d.pct(0.5)), fmtDur(r.pct(0.5)), fmtDur(r.pct(0.5)-d.pct(0.5)),
			fmtDur(d.pct(0.99)), fmtDur(r.pct(0.99)), fmtDur(r.pct(0.99)-d.pct(0.99)))
	}

	fmt.Fprintf(w, "\n### Session churn (initialize → initialized → call → DELETE), concurrency %d\n\n", o.concurrency)
	fmt.Fprintln(w, "| Server | sessions/s | × raw floor | p50 | p99 | errors | server CPU/session |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	churnFloor := get("churn-floor-http")
	for _, r := range rows {
		if r.kind != kindChurn {
			continue
		}
		if !r.ok() {
			fmt.Fprintf(w, "| %s | %s | | | | | |\n", r.label, r.na)
			continue
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %d | %s |\n", r.label, r.rps(), ratio(r, churnFloor),
			fmtDur(r.pct(0.5)), fmtDur(r.pct(0.99)), r.errors(), fmtDur(r.cpuPerCall()))
	}

	var idleFloor *idleRow
	if len(idle) > 0 {
		idleFloor = idle[0]
		fmt.Fprintln(w, "\n### Idle SSE streams")
		fmt.Fprintln(w, "\n| Server | streams | RSS before | RSS after | per stream | × raw floor |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
		for _, r := range idle {
			if r.res == nil {
				fmt.Fprintf(w, "| %s | %s | | | | |\n", r.label, r.na)
				continue
			}
			x := "–"
			if idleFloor.res != nil && idleFloor.res.PerStreamKB > 0 {
				x = fmt.Sprintf("%.2f", r.res.PerStreamKB/idleFloor.res.PerStreamKB)
			}
			fmt.Fprintf(w, "| %s | %d | %.1f MiB | %.1f MiB | %.1f kB | %s |\n", r.label, r.res.Streams,
				float64(r.res.Before)/(1<<20), float64(r.res.After)/(1<<20), r.res.PerStreamKB, x)
		}
	}

	fmt.Fprintln(w, "\n### Targets (issue 7)")
	fmt.Fprintln(w, "\n| Target | Measured | Met |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, t := range goals(get, idle, floor, o.idleCapped) {
		fmt.Fprintf(w, "| %s | %s | %s |\n", t.name, t.measured, t.verdict)
	}
}

// goal is one target of issue 7 and whether this run met it.
type goal struct{ name, measured, verdict string }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func goals(get func(string) *row, idle []*idleRow, floor *row, idleCapped string) []goal {
	var ts []goal
	frac := func(name, key string, want float64) {
		r := get(key)
		if !r.ok() || !floor.ok() {
			ts = append(ts, goal{name, r.na + floor.na, "n/a"})
			return
		}
		f := r.rps() / floor.rps()
		ts = append(ts, goal{name, fmt.Sprintf("%.0f req/s = %.2f × floor%s", r.rps(), f, perPass(r, floor)), verdict(f >= want)})
	}
	frac("mcpgate → stdio floor, c=16: ≥ 0.45 × raw floor", "gw-floor", 0.45)
	frac("mcpgate → demo upstream, c=16: ≥ 0.40 × raw floor", "gw-demo", 0.40)

	// Against other gateways: their reference figures as fractions of the
	// reference floor, so that a slower or busier machine compares fairly.
	ev := get("gw-everything")
	for _, t := range []struct {
		name string
		want float64
	}{
		{"mcpgate → server-everything: ≥ 1.2 × minimal mcp-go gateway (9,400 of 35,000)", 1.2 * refMCPGoGateway / refFloor},
		{"mcpgate → server-everything: ≥ 4 × supergateway's best mode (3,000 of 35,000)", 4 * refSupergatewayOK / refFloor},
	} {
		if !ev.ok() || !floor.ok() {
			ts = append(ts, goal{t.name, ev.na, "n/a"})
			continue
		}
		f := ev.rps() / floor.rps()
		ts = append(ts, goal{t.name, fmt.Sprintf("%.0f req/s = %.3f × floor (need %.3f)%s", ev.rps(), f, t.want, perPass(ev, floor)), verdict(f >= t.want)})
	}
	// The same targets against the peers measured in this run (peers.go).
	ts = append(ts, peerGoals(get)...)

	gw, direct := get("gw-floor-c1"), get("floor-stdio-c1")
	if gw.ok() && direct.ok() {
		p50, p99 := gw.pct(0.5)-direct.pct(0.5), gw.pct(0.99)-direct.pct(0.99)
		ts = append(ts, goal{"added latency at c=1 (stdio floor): ≤ 0.2 ms p50", fmtDur(p50), verdict(p50 <= 200*time.Microsecond)})
		ts = append(ts, goal{"added latency at c=1 (stdio floor): ≤ 2 ms p99", fmtDur(p99), verdict(p99 <= 2*time.Millisecond)})
	}

	if len(idle) > 1 && idle[1].res != nil {
		gwIdle := idle[1].res
		// A machine whose open-file limit is 20,000 cannot hold 20,000
		// streams plus the server's own files: the cap is noted.
		ok := (gwIdle.Streams >= 20000 || idleCapped != "") && gwIdle.PerStreamKB <= 35
		x := ""
		if idleCapped != "" {
			x = " (capped at " + idleCapped + ")"
		}
		if f := idle[0].res; f != nil && f.PerStreamKB > 0 {
			ratio := gwIdle.PerStreamKB / f.PerStreamKB
			x = fmt.Sprintf(", %.2f × floor", ratio) + x
			ok = ok && ratio <= 1.25
		}
		ts = append(ts, goal{"20,000 idle SSE streams at ≤ 35 kB each, ≤ 1.25 × raw floor",
			fmt.Sprintf("%d streams, %.1f kB each%s", gwIdle.Streams, gwIdle.PerStreamKB, x), verdict(ok)})
	} else {
		ts = append(ts, goal{"20,000 idle SSE streams at ≤ 35 kB each, ≤ 1.25 × raw floor", "not run", "n/a"})
	}

	churn := get("churn-gw-floor")
	if churn.ok() {
		ts = append(ts, goal{"churn ≥ 3,000 sessions/s", fmt.Sprintf("%.0f sessions/s", churn.rps()), verdict(churn.rps() >= 3000)})
	}

	for _, t := range []struct{ name, sse, streamable string }{
		{"legacy SSE within 10% of Streamable HTTP (a session per worker)", "gw-floor-sse", "gw-floor"},
		{"legacy SSE within 10% of Streamable HTTP (one session for all workers)", "gw-floor-sse-1s", "gw-floor-1s"},
	} {
		sse, st := get(t.sse), get(t.streamable)
		if !sse.ok() || !st.ok() {
			ts = append(ts, goal{t.name, sse.na + st.na, "n/a"})
			continue
		}
		// The gateway's own CPU per call beside the ratio: the part of a
		// call's cost the gateway controls (the client's and the kernel's
		// share of the protocol's extra messages are in the ratio).
		cpu := ""
		if sse.cpuPerCall() > 0 && st.cpuPerCall() > 0 {
			cpu = fmt.Sprintf("; gateway CPU per call %s vs %s", fmtDur(sse.cpuPerCall()), fmtDur(st.cpuPerCall()))
		}
		f := sse.rps() / st.rps()
		ts = append(ts, goal{t.name, fmt.Sprintf("%.3f ×%s; TCP segments per call %s vs %s%s", f, perPass(sse, st), sse.segments(), st.segments(), cpu), verdict(f >= 0.9)})
	}
	return ts
}
