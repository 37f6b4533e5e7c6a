package gctune

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name           string
		live, headroom int64
		want           int
	}{
		{"no collection yet: the runtime's 4 MiB minimum", 0, 64 * mib, 1600},
		{"tiny live heap counts as 4 MiB", 1 * mib, 64 * mib, 1600},
		{"small live heap", 8 * mib, 64 * mib, 800},
		{"live heap as large as the headroom: Go's default", 64 * mib, 64 * mib, 100},
		{"large live heap: never below Go's default", 512 * mib, 64 * mib, 100},
		{"odd sizes round down", 6 * mib, 64 * mib, 1066},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percent(tt.live, tt.headroom); got != tt.want {
				t.Errorf("Percent(%d, %d) = %d, want %d", tt.live, tt.headroom, got, tt.want)
			}
		})
	}
}

func TestEnabled(t *testing.T) {
	t.Setenv("GOGC", "200")
	if Enabled() {
		t.Error("Enabled() with GOGC set = true, want false: the operator's GOGC wins")
	}
}

// gcPercent reads GOGC.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// TestTuneFollowsCollections starts the tuner (this test owns the process's
// GC percentage: the package has no other test that sets it), forces
// collections, and checks that GOGC follows the live heap and is restored
// when the context ends.
func TestTuneFollowsCollections(t *testing.T) {
	before := gcPercent()
	ctx, cancel := context.WithCancel(context.Background())
	const headroom = 48 << 20
	Tune(ctx, Options{MinHeadroom: headroom})

	runtime.GC()
	want := Percent(liveNow(), headroom)
	if want <= 100 {
		t.Fatalf("test heap too large for the check: Percent = %d", want)
	}
	waitFor(t, func() bool { p := gcPercent(); return p > 100 && near(p, want) }, "GOGC tuned after a collection")

	// A live heap larger than the headroom brings GOGC back to 100.
	keep := make([]byte, 2*headroom)
	for i := range keep {
		keep[i] = 1 // touch it: the allocation must be live and counted
	}
	waitFor(t, func() bool { runtime.GC(); return gcPercent() == 100 }, "GOGC back to 100 with a large live heap")
	runtime.KeepAlive(keep)

	cancel()
	waitFor(t, func() bool { return gcPercent() == before }, "GOGC restored when the context ends")
}

func liveNow() int64 {
	var tu tuner
	return tu.live()
}

// near reports whether p is within the tuner's 1/8 dead band of want.
func near(p, want int) bool { return p >= want*7/8 && p <= want*9/8 }

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s (GOGC %d)", what, gcPercent())
		}
		runtime.GC()
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}
