// Package gctune keeps the garbage collector from running dozens of times a
// second while the live heap is small.
//
// A gateway's live heap is small (a few MiB: sessions, catalogs, buffers)
// and its allocation rate high (a few kB per call), so with Go's default
// GOGC=100 the heap goal sits at the 4 MiB minimum and a busy gateway
// collects 30–40 times a second: each cycle's fixed costs (stack scans, the
// write barrier turned on, mark assists that land on request goroutines)
// show in the tail latency and in CPU per call. Tune sets GOGC after every
// collection so that the next one starts once MinHeadroom bytes have been
// allocated beyond the live heap, or the live heap has doubled, whichever
// is later: GOGC = max(100, 100 × MinHeadroom / live). A large live heap
// (20,000 idle streams, say) keeps Go's default; a small one trades at most
// MinHeadroom bytes of memory for far fewer collections.
//
// It owns the process's GC percentage and nothing else; it must not be
// started by library code or tests that share a process with other users
// of debug.SetGCPercent. The binary starts it (cmd/mcpgate), and not when
// the GOGC environment variable is set: an operator's explicit choice wins.
// GOMEMLIMIT, when set, still bounds the heap (the runtime honours the
// memory limit whatever GOGC says).
package gctune

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// DefaultMinHeadroom is Options.MinHeadroom's zero value: 64 MiB.
const DefaultMinHeadroom = 64 << 20

// minLive is the live heap Percent assumes at least: the runtime's own
// minimum heap goal (4 MiB at GOGC=100) scales with GOGC, so a smaller
// figure would raise the goal above live + headroom.
const minLive = 4 << 20

// Options configure Tune.
type Options struct {
	// MinHeadroom is how many bytes may be allocated after a collection
	// before the next one starts, at least. Zero means DefaultMinHeadroom.
	MinHeadroom int64
	// Log receives one debug line per change of GOGC. Nil discards.
	Log *slog.Logger
}

// Enabled reports whether the process should be tuned: not when the
// operator set GOGC.
func Enabled() bool {
	return os.Getenv("GOGC") == "" // empty: the runtime's default too
}

// Percent is the GOGC that gives headroom bytes of allocation after a
// collection that left live bytes: 100 × headroom / live, at least 100
// (Go's default). Live heaps under 4 MiB count as 4 MiB (minLive), so the
// goal never exceeds 4 MiB + headroom.
func Percent(live, headroom int64) int {
	return int(max(headroom*100/max(live, minLive), 100))
}

// Tune adjusts GOGC after every collection until ctx ends, then restores
// the percentage it found. It returns at once; the work happens on the
// runtime's cleanup goroutine and one goroutine of its own.
func Tune(ctx context.Context, opts Options) {
	headroom := opts.MinHeadroom
	if headroom <= 0 {
		headroom = DefaultMinHeadroom
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &tuner{headroom: headroom, log: log, wake: make(chan struct{}, 1)}
	t.cur = Percent(t.live(), headroom)
	t.prev = debug.SetGCPercent(t.cur)
	t.arm()
	go t.loop(ctx)
}

type tuner struct {
	headroom int64
	log      *slog.Logger
	wake     chan struct{} // a collection happened
	stopped  atomic.Bool
	prev     int // GOGC before Tune
	cur      int // GOGC now
	sample   [1]metrics.Sample
}

// sentinel is an object nobody references: its cleanup runs after the
// collection that finds it unreachable, i.e. once per GC cycle. It is
// large enough to stay out of the tiny allocator, whose blocks may be
// kept alive by their neighbours.
type sentinel struct{ _ [32]byte }

// arm allocates a new sentinel whose cleanup signals wake and re-arms.
func (t *tuner) arm() {
	s := new(sentinel)
	runtime.AddCleanup(s, func(t *tuner) {
		if t.stopped.Load() {
			return
		}
		select {
		case t.wake <- struct{}{}:
		default:
		}
		t.arm()
	}, t)
}

func (t *tuner) loop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			t.stopped.Store(true)
			debug.SetGCPercent(t.prev)
			return
		case <-t.wake:
		}
		if p := Percent(t.live(), t.headroom); p != t.cur && (p > t.cur*9/8 || p < t.cur*7/8) {
			debug.SetGCPercent(p)
			t.log.Debug("GOGC tuned", "gogc", p, "was", t.cur)
			t.cur = p
		}
	}
}

// live is the heap the last collection marked live, in bytes.
func (t *tuner) live() int64 {
	t.sample[0].Name = "/gc/heap/live:bytes"
	metrics.Read(t.sample[:])
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(t.sample[0].Value.Uint64())
}
