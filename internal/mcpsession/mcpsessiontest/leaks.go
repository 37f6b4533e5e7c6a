package mcpsessiontest

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// CheckLeaks fails if goroutines whose stacks contain any of patterns (for
// example "internal/streamable.(*") are still running after every test has
// cleaned up. Stragglers get a few seconds to finish: connections close
// asynchronously. Call it from TestMain after m.Run.
func CheckLeaks(patterns ...string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var leaked []string
		for _, g := range strings.Split(stacks, "\n\n") {
			for _, p := range patterns {
				if strings.Contains(g, p) {
					leaked = append(leaked, g)
					break
				}
			}
		}
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("leaked goroutines:\n%s", strings.Join(leaked, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond) // polling for stragglers, not synchronisation
	}
}
