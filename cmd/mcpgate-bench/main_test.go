package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

func TestLoadWritesClientProfile(t *testing.T) {
	srv := floorServer(t)
	prof := filepath.Join(t.TempDir(), "client.prof")
	var out, errOut bytes.Buffer
	code := run([]string{"load", "-url", srv.URL + "/mcp", "-c", "2", "-d", "100ms", "-warmup", "0s", "-cpuprofile", prof}, nil, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "client CPU") {
		t.Errorf("output does not report the client's CPU per call: %q", out.String())
	}
	if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
		t.Errorf("no CPU profile written: %v", err)
	}
}
