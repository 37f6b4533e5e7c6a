package proctune

import (
	"context"
	"log/slog"
	"math"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name       string
		cur        int
		used, idle float64
		most       int
		below      int
		want       int
		wantBelow  int
	}{
		{"idle gateway stays at one", 1, 0.05, 1.5, 4, 0, 1, 0},
		{"busy P, idle machine: one more", 1, 0.9, 1.0, 4, 0, 2, 0},
		{"saturated: twice as many", 2, 1.95, 2.0, 8, 0, 4, 0},
		{"saturated, sized beyond double", 2, 1.98, 4.0, 8, 0, 4, 0},
		{"never beyond most", 2, 1.99, 4.0, 3, 0, 3, 0},
		{"busy P, no CPU idle: stays", 1, 0.92, 0.1, 4, 0, 1, 0},
		{"busy P, unknown idle: one more", 1, 0.9, inf, 4, 0, 2, 0},
		{"moderate load keeps its Ps", 2, 1.2, 0.8, 4, 0, 2, 0},
		{"light load: not yet lower (1st)", 2, 0.3, 1.5, 4, 0, 2, 1},
		{"light load: not yet lower (2nd)", 2, 0.3, 1.5, 4, 1, 2, 2},
		{"light load: lower at the 3rd", 2, 0.3, 1.5, 4, 2, 1, 0},
		{"much lighter: sized down, not just one less", 8, 0.6, 6, 8, 2, 1, 0},
		{"a busier interval resets the count", 2, 1.2, 1.5, 4, 2, 2, 0},
		{"full machine: a P the load does not need goes", 2, 0.75, 0.05, 4, 2, 1, 0},
		{"full machine: a P the load needs stays", 2, 0.9, 0.05, 4, 2, 2, 0},
		{"cur above most is clamped", 6, 0.5, 1, 4, 2, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, below := Next(tt.cur, tt.used, tt.idle, tt.most, tt.below)
			if got != tt.want || below != tt.wantBelow {
				t.Errorf("Next(%d, %.2f, %.2f, %d, %d) = %d, %d; want %d, %d",
					tt.cur, tt.used, tt.idle, tt.most, tt.below, got, below, tt.want, tt.wantBelow)
			}
		})
	}
}

func TestEnabled(t *testing.T) {
	t.Setenv("GOMAXPROCS", "3")
	if Enabled() {
		t.Error("Enabled() with GOMAXPROCS=3 = true, want false: the operator's choice wins")
	}
	t.Setenv("GOMAXPROCS", "")
	if !Enabled() {
		t.Error("Enabled() with GOMAXPROCS empty = false, want true: the runtime ignores it too")
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		idle, total uint64
		ok          bool
	}{
		{"kernel line", "cpu  10 2 30 400 5 0 6 7 8 9\ncpu0 1 2 3 4 5 6 7 8 9 10\n", 405, 460, true},
		{"old kernel, four columns", "cpu 1 2 3 4\n", 4, 10, true},
		{"three columns", "cpu 1 2 3\n", 0, 0, false},
		{"five columns", "cpu 1 2 3 4 5\n", 9, 15, true},
		{"not the aggregate line", "cpu0 1 2 3 4 5 6 7 8\n", 0, 0, false},
		{"garbage", "cpu a b c d e\n", 0, 0, false},
		{"empty", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idle, total, ok := parseStat([]byte(tt.in))
			if idle != tt.idle || total != tt.total || ok != tt.ok {
				t.Errorf("parseStat = %d, %d, %v; want %d, %d, %v", idle, total, ok, tt.idle, tt.total, tt.ok)
			}
		})
	}
}

// TestMeasurements reads the real sources: the process's CPU time grows as
// it works, and the machine's idle CPUs, where /proc/stat exists, are
// between none and all of them.
func TestMeasurements(t *testing.T) {
	before := cpuTime()
	deadline := time.Now().Add(5 * time.Second)
	for cpuTime() < before+20*time.Millisecond && time.Now().Before(deadline) {
		spin(time.Millisecond)
	}
	if got := cpuTime() - before; got < 20*time.Millisecond {
		t.Errorf("CPU time after spinning: +%v, want at least 20ms", got)
	}

	var m idleMeter
	if first := m.sample(); !math.IsInf(first, 1) {
		t.Errorf("first idle sample = %v, want +Inf (nothing to compare with)", first)
	}
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat here")
	}
	var idle float64
	for {
		spin(20 * time.Millisecond) // at least two 10 ms ticks
		if idle = m.sample(); !math.IsInf(idle, 1) || time.Now().After(deadline) {
			break
		}
	}
	if idle < 0 || idle > float64(runtime.NumCPU()) {
		t.Errorf("idle CPUs = %v, want between 0 and %d", idle, runtime.NumCPU())
	}
}

// TestTuneLoop runs the loop on given measurements (the machine's load
// cannot be had on demand) and checks what it does to GOMAXPROCS: one P to
// start, more under load on an idle machine, fewer once the load is gone,
// and the original value back when ctx ends. This test owns the process's
// GOMAXPROCS: the package has no other test that sets it.
func TestTuneLoop(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	var used atomic.Int64 // CPU time, ns: the test advances it
	var rate atomic.Int64 // CPU ns added per ns of wall time, in thousandths
	last := time.Now()
	cpu := func() time.Duration {
		now := time.Now()
		used.Add(int64(now.Sub(last)) * rate.Load() / 1000)
		last = now
		return time.Duration(used.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tu := &tuner{max: 4, interval: 5 * time.Millisecond, log: slog.New(slog.DiscardHandler), cpu: cpu, idle: func() float64 { return 3 }}
	tu.start(ctx, prev)
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS after start = %d, want 1", got)
	}

	waitProcs := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for runtime.GOMAXPROCS(0) != want {
			if time.Now().After(deadline) {
				t.Fatalf("GOMAXPROCS = %d, want %d", runtime.GOMAXPROCS(0), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	rate.Store(3000) // three CPUs' worth: saturated, so it grows to the most
	waitProcs(4)
	rate.Store(100) // a tenth of a CPU: back to one
	waitProcs(1)
	cancel()
	<-tu.done
	if got := runtime.GOMAXPROCS(0); got != prev {
		t.Errorf("GOMAXPROCS after ctx ended = %d, want the original %d", got, prev)
	}
}

// spin burns about d of CPU time.
func spin(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
	}
}
