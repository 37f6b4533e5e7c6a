// Package proctune sizes GOMAXPROCS to the gateway's load, so that a
// gateway that needs less than the machine leaves the rest to the processes
// beside it: its stdio upstreams, above all.
//
// With Go's default GOMAXPROCS (every CPU), a gateway that keeps one CPU
// busy has idle Ps, and every goroutine it wakes (a handler woken by an
// upstream's response, the stdio writer, net/http's background read) makes
// the scheduler wake a thread to look for work on another CPU: a futex
// call, a spin, a futex sleep. On a machine of two CPUs shared with a Node
// upstream, that costs the gateway about 12% more CPU per call and takes
// CPU the upstream needs (docs/performance.md, "Seventh pass"). With as
// many Ps as its load needs, those hand-offs are goroutine switches on one
// thread.
//
// Tune measures the process's CPU time (getrusage: what the kernel charged,
// spinning included) and the machine's idle CPU time (/proc/stat) over short
// intervals, and sets GOMAXPROCS to what the load needs and the machine can
// give. More Ps as soon as the ones it has are nearly saturated (twice as
// many when they are), if the machine has a CPU's worth idle to run them
// on; fewer after several intervals well below what one P less could carry,
// or — when the machine has no CPU idle, so that another P could only
// compete with its neighbours — below what one P less carries at all. It
// starts at one P and never exceeds Go's default (the CPUs, or the
// container's limit, when Tune starts). Where the machine's idle time
// cannot be read, every P is taken as available (inside a container,
// /proc/stat shows the host's CPUs: the same).
//
// It owns the process's GOMAXPROCS and nothing else; it must not be started
// by library code or tests that share a process with other users of
// runtime.GOMAXPROCS. The binary starts it (cmd/mcpgate), and not when the
// GOMAXPROCS environment variable is set: an operator's explicit choice
// wins.
package proctune

import (
	"context"
	"log/slog"
	"math"
	"os"
	"runtime"
	"syscall"
	"time"
)

// DefaultInterval is Options.Interval's zero value: long enough for
// /proc/stat's 10 ms ticks to resolve a twentieth of a CPU.
const DefaultInterval = 200 * time.Millisecond

// The control law's thresholds, as fractions of a P's capacity.
const (
	// raiseAt: more Ps once the load exceeds this share of the Ps it has.
	raiseAt = 0.85
	// saturatedAt: twice the Ps (at least) once the load exceeds this share:
	// the Ps are full and the true demand cannot be seen.
	saturatedAt = 0.95
	// lowerAt: fewer Ps once the load stays under this share of one P
	// less. The gap to raiseAt absorbs the spinning that more Ps add to
	// the measured load, so that the Ps do not flap.
	lowerAt = 0.72
	// sizeAt: the share of each P a new size is chosen for.
	sizeAt = 0.75
	// lowerAfter is how many intervals in a row must ask for fewer Ps.
	lowerAfter = 3
	// idleToRaise is how many CPUs must have been idle for more Ps: one
	// more thread needs a CPU to run on.
	idleToRaise = 0.5
	// idleBusy: under this many idle CPUs the machine is full, and a P the
	// load does not need only competes with the processes beside it.
	idleBusy = 0.15
)

// Options configure Tune.
type Options struct {
	// Max is the most Ps Tune sets. Zero means GOMAXPROCS as Tune finds it
	// (Go's default: the CPUs, or the container's CPU limit).
	Max int
	// Interval is how often the load is measured. Zero means
	// DefaultInterval.
	Interval time.Duration
	// Log receives one debug line per change of GOMAXPROCS. Nil discards.
	Log *slog.Logger
}

// Enabled reports whether the process should be tuned: not when the
// operator set GOMAXPROCS (to anything but the empty string, which the
// runtime ignores too).
func Enabled() bool {
	return os.Getenv("GOMAXPROCS") == ""
}

// Next is the number of Ps for a process that used the CPU time of used
// CPUs over an interval run with cur Ps, while the machine left idle CPUs
// idle (+Inf when unknown); at most most, at least 1. below counts the
// intervals in a row before this one that asked for fewer Ps; Next returns
// it updated: fewer Ps are given only at the lowerAfter'th.
func Next(cur int, used, idle float64, most, below int) (procs, belowNow int) {
	cur = clamp(cur, 1, most)
	size := clamp(int(math.Ceil(used/sizeAt)), 1, most)
	switch {
	case used > saturatedAt*float64(cur) && idle >= idleToRaise:
		return clamp(max(size, 2*cur), 1, most), 0
	case used > raiseAt*float64(cur) && idle >= idleToRaise:
		return clamp(max(size, cur+1), 1, most), 0
	case cur > 1 && (used < lowerAt*float64(cur-1) || idle < idleBusy && used < raiseAt*float64(cur-1)):
		if below+1 < lowerAfter {
			return cur, below + 1
		}
		return clamp(size, 1, cur-1), 0
	}
	return cur, 0
}

// Tune sizes GOMAXPROCS until ctx ends, then restores the value it found.
// It returns at once; the work happens on one goroutine of its own.
func Tune(ctx context.Context, opts Options) {
	prev := runtime.GOMAXPROCS(0)
	t := &tuner{max: opts.Max, interval: opts.Interval, log: opts.Log}
	if t.max <= 0 {
		t.max = prev
	}
	if t.interval <= 0 {
		t.interval = DefaultInterval
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	var machine idleMeter
	t.cpu, t.idle = cpuTime, machine.sample
	t.start(ctx, prev)
}

type tuner struct {
	max      int
	interval time.Duration
	log      *slog.Logger
	cur      int
	cpu      func() time.Duration // the process's CPU time so far
	idle     func() float64       // the machine's idle CPUs since the last call
	done     chan struct{}        // closed when loop has restored GOMAXPROCS
}

// start sets one P and starts the loop.
func (t *tuner) start(ctx context.Context, prev int) {
	t.cur = 1
	t.done = make(chan struct{})
	runtime.GOMAXPROCS(t.cur)
	go t.loop(ctx, prev)
}

func (t *tuner) loop(ctx context.Context, prev int) {
	defer close(t.done)
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	lastCPU, lastAt := t.cpu(), time.Now()
	t.idle()
	below := 0
	for {
		select {
		case <-ctx.Done():
			runtime.GOMAXPROCS(prev)
			return
		case <-tick.C:
		}
		cpu, now := t.cpu(), time.Now()
		wall := now.Sub(lastAt)
		if wall <= 0 {
			continue
		}
		used := float64(cpu-lastCPU) / float64(wall)
		lastCPU, lastAt = cpu, now
		idle := t.idle()
		var n int
		n, below = Next(t.cur, used, idle, t.max, below)
		if n != t.cur {
			runtime.GOMAXPROCS(n)
			t.log.Debug("GOMAXPROCS tuned", "procs", n, "was", t.cur,
				"cpus_used", math.Round(used*100)/100, "cpus_idle", math.Round(idle*100)/100)
			t.cur = n
		}
	}
}

// cpuTime is the CPU time the kernel has charged to this process, user and
// system, in nanoseconds; zero if it cannot tell.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), max(hi, lo))
}
