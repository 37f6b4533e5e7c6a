package mcpsessiontest

import (
	"fmt"
	"os"
	"testing"
)

// Main runs a test binary's tests and exits; when they pass, it fails the
// binary if a goroutine whose stack contains one of leakPatterns is still
// running (CheckLeaks). Call it from TestMain.
func Main(m *testing.M, leakPatterns ...string) {
	code := m.Run()
	if code == 0 {
		if err := CheckLeaks(leakPatterns...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}
