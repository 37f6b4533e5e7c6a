package stdio

import (
	"encoding/json"
	"errors"
	"syscall"
	"testing"
)

// TestGrandchild checks that the whole process group goes, including a
// grandchild that holds the stdout pipe open after its parent exits.
func TestGrandchild(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testOptions(t, modeGrandchild), true)
	m := h.rec.waitMessage(t, "test/grandchild")
	var gc struct{ PID int }
	if err := json.Unmarshal(m.Params, &gc); err != nil || gc.PID <= 0 {
		t.Fatalf("grandchild pid %s: %v", m.Params, err)
	}
	// The grandchild is not ours to wait for; a pidfd tells when it ends.
	pidfd, err := pidfdOpen(gc.PID)
	if err != nil {
		t.Fatalf("pidfd_open(%d): %v", gc.PID, err)
	}
	defer syscall.Close(pidfd)
	if err := h.c.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !waitPidfd(t, pidfd) {
		t.Errorf("grandchild %d still running after Close", gc.PID)
	}
}

const sysPidfdOpen = 434 // pidfd_open(2), the same number on every Linux architecture

func pidfdOpen(pid int) (int, error) {
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// waitPidfd waits up to waitTimeout for the process behind pidfd to exit;
// a pidfd becomes readable when it does.
func waitPidfd(t *testing.T, pidfd int) bool {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ep)
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, pidfd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(pidfd)}); err != nil {
		t.Fatal(err)
	}
	events := make([]syscall.EpollEvent, 1)
	for {
		n, err := syscall.EpollWait(ep, events, int(waitTimeout.Milliseconds()))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
}
