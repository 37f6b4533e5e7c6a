package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startCPUProfile writes the load client's CPU profile to path until the
// returned function is called: where the client's own time goes matters,
// since it shares the machine with the servers it measures.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
