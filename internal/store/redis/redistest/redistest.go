// Package redistest starts a throwaway redis-server for tests: its own
// process on a unix socket in a temporary directory, no config file, no
// persistence, killed when the test ends.
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// readyLine is what redis-server logs once it accepts connections,
// lower-cased: 7.0 writes "ready to accept connections at <socket>",
// 7.2 and later "Ready to accept connections unix".
var readyLine = []byte("ready to accept connections")

// startTimeout bounds the wait for the server to be ready.
const startTimeout = 15 * time.Second

// Start starts a redis-server and returns its URL (unix://…). The server
// is killed, and its directory removed, at t.Cleanup. Without a
// redis-server binary the test is skipped, unless the CI environment
// variable is set: CI must run the Redis tests, so there it fails.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("redis-server not installed (Debian: apt-get install redis-server)")
		}
		t.Fatalf("redis-server is required under CI: %v", err)
	}
	// A short directory: a unix socket path must fit in 108 bytes, and
	// t.TempDir's can be longer for deep subtests.
	dir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "redis.sock")
	// --port 0: no TCP listener at all, so no port can be taken by
	// another process between picking and binding.
	cmd := exec.Command(bin,
		"--port", "0",
		"--unixsocket", sock,
		"--unixsocketperm", "700",
		"--dir", dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--loglevel", "notice",
	)
	out := &watcher{ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // ends when the process does
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-out.ready:
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("redis-server exited before it was ready: %v\n%s", err, out.text())
	case <-timer.C:
		t.Fatalf("redis-server not ready after %v:\n%s", startTimeout, out.text())
	}
	if err := ping(sock); err != nil {
		t.Fatalf("redis-server does not answer PING: %v\n%s", err, out.text())
	}
	return "unix://" + sock
}

// ping sends one inline PING and expects +PONG.
func ping(sock string) error {
	c, err := net.DialTimeout("unix", sock, startTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(startTimeout))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return errors.New("unexpected reply " + line)
	}
	return nil
}

// watcher collects the server's log and closes ready at readyLine.
type watcher struct {
	ready chan struct{}
	mu    sync.Mutex // guards buf and seen
	buf   bytes.Buffer
	seen  bool
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() < 64<<10 {
		w.buf.Write(p)
	}
	if !w.seen && bytes.Contains(bytes.ToLower(w.buf.Bytes()), readyLine) {
		w.seen = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *watcher) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
