package redistest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB whose Skip and Fatal end the goroutine and
// record how, so Start's choice can be checked without ending this test.
type recorder struct {
	testing.TB
	ended string // "skip" or "fatal"
}

func (r *recorder) Skip(args ...any) { r.ended = "skip"; runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.ended = "fatal: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.ended = "fatal: " + fmt.Sprint(args...); runtime.Goexit() }

// TestMissingServer: without redis-server a test skips, unless CI is set.
func TestMissingServer(t *testing.T) {
	tests := []struct {
		name, ci, want string
	}{
		{"local", "", "skip"},
		{"ci", "true", "fatal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir()) // an empty directory: no redis-server
			t.Setenv("CI", tc.ci)
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Start(r)
			}()
			<-done
			if !strings.HasPrefix(r.ended, tc.want) {
				t.Errorf("got %q, want %s", r.ended, tc.want)
			}
		})
	}
}

// TestStart: the server answers; after cleanup it does not, and its
// directory is gone.
func TestStart(t *testing.T) {
	var sock string
	t.Run("run", func(t *testing.T) {
		sock = strings.TrimPrefix(Start(t), "unix://")
		if err := ping(sock); err != nil {
			t.Fatal(err)
		}
	})
	if err := ping(sock); err == nil {
		t.Error("server still answers after cleanup")
	}
	if _, err := os.Stat(filepath.Dir(sock)); !os.IsNotExist(err) {
		t.Errorf("directory of %s still there after cleanup: %v", sock, err)
	}
}
