package relay

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestMRTRStats: parked calls, refusals by the park limits and park
// timeouts are counted.
func TestMRTRStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newMRTRRelay(t, Options{MRTR: MRTROptions{ParkTimeout: time.Minute, MaxParked: 2, MaxParkedPerPrincipal: 1}})
		steps := []struct {
			name string
			user string // a call by user; "" lets the park timeout pass
			want MRTRStats
		}{
			{"first parks", "alice", MRTRStats{Parked: 1, ParkedTotal: 1}},
			{"per-principal limit", "alice", MRTRStats{Parked: 1, ParkedTotal: 1, LimitRefused: 1}},
			{"second parks", "bob", MRTRStats{Parked: 2, ParkedTotal: 2, LimitRefused: 1}},
			{"global limit", "carol", MRTRStats{Parked: 2, ParkedTotal: 2, LimitRefused: 2}},
			{"both time out", "", MRTRStats{ParkedTotal: 2, LimitRefused: 2, ParkTimeouts: 2}},
		}
		for _, st := range steps {
			if st.user == "" {
				time.Sleep(time.Minute + time.Second)
			} else {
				callTool(t.Context(), t, r, statelessClient(st.user, ""), `{"name":"ask"}`)
			}
			synctest.Wait()
			if got := r.MRTRStats(); got != st.want {
				t.Errorf("%s: stats %+v, want %+v", st.name, got, st.want)
			}
		}
	})
}
