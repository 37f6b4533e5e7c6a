package main

import (
	"os"
	"testing"
)

// envStdioFloor makes the test binary serve the stdio floor, so that tests
// can run it as a real subprocess.
const envStdioFloor = "MCPGATE_BENCH_TEST_STDIO_FLOOR"

func TestMain(m *testing.M) {
	if os.Getenv(envStdioFloor) == "1" {
		os.Exit(cmdStdioFloor(os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// stdioFloorCommand runs this test binary as the stdio floor.
func stdioFloorCommand(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envStdioFloor, "1") // inherited by the child only while this test runs
	return []string{exe}
}
