package upstream

import (
	"testing"
	"time"
)

func TestDurations(t *testing.T) {
	for _, tt := range []struct {
		name     string
		in       [7]time.Duration // init, min, max, stable, ready, grace, probe
		want     [7]time.Duration
		wantErrs int
	}{
		{"zero values", [7]time.Duration{}, [7]time.Duration{DefaultInitTimeout, DefaultRestartBackoffMin,
			DefaultRestartBackoffMax, DefaultStableAfter, 0, DefaultShutdownGrace, DefaultProbeTimeout}, 0},
		{"set values kept", [7]time.Duration{1, 2, 3, 4, 5, 6, 7}, [7]time.Duration{1, 2, 3, 4, 5, 6, 7}, 0},
		{"max raised to min", [7]time.Duration{0, time.Minute, time.Second}, [7]time.Duration{DefaultInitTimeout, time.Minute,
			time.Minute, DefaultStableAfter, 0, DefaultShutdownGrace, DefaultProbeTimeout}, 0},
		{"negatives each reported", [7]time.Duration{-1, 0, -1, 0, -1, 0, -1}, [7]time.Duration{}, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.in
			d := Durations{Init: &v[0], BackoffMin: &v[1], BackoffMax: &v[2], StableAfter: &v[3], ReadyWait: &v[4], ShutdownGrace: &v[5], Probe: &v[6]}
			if errs := d.Check(); len(errs) != tt.wantErrs {
				t.Fatalf("Check = %v, want %d errors", errs, tt.wantErrs)
			}
			if tt.wantErrs > 0 {
				return
			}
			d.Fill()
			if v != tt.want {
				t.Errorf("Fill gave %v, want %v", v, tt.want)
			}
		})
	}
}
