package relay

// MRTRStats are the counts of the multi-round-trip translation for
// 2026-07-28 clients of session-era upstreams (docs/protocol-eras.md §4.3
// A), for metrics and the admin /stats view. Totals count since the relay
// started.
type MRTRStats struct {
	// Parked is the number of calls parked now or resumed and not finished.
	Parked int `json:"parked"`
	// ParkedTotal counts the calls that parked at least once.
	ParkedTotal uint64 `json:"parkedTotal"`
	// LimitRefused counts the calls refused because MRTROptions.MaxParked
	// or MaxParkedPerPrincipal was reached (HTTP 429 to the client).
	LimitRefused uint64 `json:"limitRefused"`
	// ParkTimeouts counts the parked calls dropped because no retry came
	// within MRTROptions.ParkTimeout.
	ParkTimeouts uint64 `json:"parkTimeouts"`
}

// MRTRStats reports the multi-round-trip counts now.
func (r *Relay) MRTRStats() MRTRStats {
	m := &r.mrtr
	return MRTRStats{Parked: r.Parked(), ParkedTotal: m.parkedTotal.Load(),
		LimitRefused: m.limitRefused.Load(), ParkTimeouts: m.parkTimeouts.Load()}
}
