package gateway

// registerMRTRMetrics exposes the multi-round-trip translation's counts
// (relay.MRTRStats; docs/protocol-eras.md §4.3 A): calls parked now, calls
// that parked, refusals by mrtr.max_parked / max_parked_per_user, and park
// timeouts.
func (g *Gateway) registerMRTRMetrics() {
	r := g.relay
	g.metrics.GaugeFunc("mcpgate_mrtr_parked", "Calls of 2026-07-28 clients parked between rounds (or resumed) now.",
		func() float64 { return float64(r.Parked()) })
	g.metrics.CounterFunc("mcpgate_mrtr_parked_total", "Calls of 2026-07-28 clients that parked at least once.",
		func() float64 { return float64(r.MRTRStats().ParkedTotal) })
	g.metrics.CounterFunc("mcpgate_mrtr_park_limit_refused_total",
		"Calls refused because mrtr.max_parked or mrtr.max_parked_per_user was reached.",
		func() float64 { return float64(r.MRTRStats().LimitRefused) })
	g.metrics.CounterFunc("mcpgate_mrtr_park_timeouts_total", "Parked calls dropped because no retry came within mrtr.park_timeout.",
		func() float64 { return float64(r.MRTRStats().ParkTimeouts) })
}
