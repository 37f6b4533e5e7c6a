//go:build pprof

package main

// A profiling build (go build -tags pprof ./cmd/mcpgate) serves
// net/http/pprof on MCPGATE_PPROF (e.g. 127.0.0.1:6060) when it is set,
// on a listener of its own: docs/performance.md, "Profiling". Ordinary
// builds do not contain it; the admin listener has no pprof.

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
)

func init() {
	addr := os.Getenv("MCPGATE_PPROF")
	if addr == "" {
		return
	}
	go func() {
		// Lives as long as the process: a profiling build only.
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Error("pprof listener", "addr", addr, "err", err)
		}
	}()
}
