package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// stdioSession talks to an MCP server it runs as a child process:
// newline-delimited JSON-RPC on its stdin and stdout, many requests in
// flight at once, as a gateway talks to its upstream. It is the "direct
// call" the gateway's figures are compared with.
type stdioSession struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	params []byte        // tools/call params
	done   chan struct{} // closed when the reader has returned

	wmu sync.Mutex // guards w
	w   *bufio.Writer

	waiters // pending calls; err: why the reader stopped, set before done is closed
}

// openStdio starts argv and initializes it. The child's stderr goes to
// stderr (nil discards it).
func openStdio(ctx context.Context, argv []string, tc toolCall, stderr io.Writer) (*stdioSession, error) {
	if len(argv) == 0 {
		return nil, errors.New("starting stdio server: empty command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("starting stdio server: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting stdio server: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting stdio server: %w", err)
	}
	s := &stdioSession{
		cmd: cmd, stdin: stdin, params: tc.callParams(nil), done: make(chan struct{}),
		w: bufio.NewWriterSize(stdin, 64<<10), waiters: waiters{pending: map[int64]chan error{}},
	}
	go s.read(stdout)
	c := s.newCaller(ctx).(*stdioCaller)
	c.buf = append(appendRequest(c.buf[:0], 0, "initialize", initializeParams(version20251125)), '\n')
	if err := c.roundTrip(ctx, 0); err != nil {
		s.close(ctx)
		return nil, fmt.Errorf("initializing stdio server: %w", err)
	}
	if err := s.write(append(appendNotification(nil, "notifications/initialized"), '\n')); err != nil {
		s.close(ctx)
		return nil, fmt.Errorf("initializing stdio server: %w", err)
	}
	return s, nil
}

// read hands responses to their callers and refuses the server's requests.
func (s *stdioSession) read(stdout io.Reader) {
	defer close(s.done)
	r := bufio.NewReaderSize(stdout, 64<<10)
	var long []byte
	var err error
	for {
		var line []byte
		line, err = r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil {
			break
		}
		if !isResponse(line) {
			if raw := rawID(line); raw != nil {
				// A request from the server (roots/list, say): refuse it.
				// Written from the reader: rare, and small enough for the
				// pipe's buffer.
				msg := append(append([]byte(`{"jsonrpc":"2.0","id":`), raw...), `,"error":{"code":-32601,"message":"Method not found"}}`+"\n"...)
				_ = s.write(msg)
			}
			continue
		}
		id, ok := messageID(line)
		if !ok {
			continue
		}
		s.deliver(id, line)
	}
	s.fail(err)
}

// rawID returns the raw value of msg's "id", or nil.
func rawID(msg []byte) []byte {
	i := bytes.Index(msg, keyID)
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(msg[i+len(keyID):], " \t:")
	end := bytes.IndexAny(rest, ",}")
	if end <= 0 {
		return nil
	}
	return bytes.TrimSpace(rest[:end])
}

func (s *stdioSession) write(line []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := s.w.Write(line); err != nil {
		return err
	}
	return s.w.Flush()
}

// close closes the child's stdin, which ends a well-behaved server, and
// kills its process group if it has not exited within two seconds.
func (s *stdioSession) close(context.Context) error {
	s.wmu.Lock()
	s.stdin.Close()
	s.wmu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	<-s.done
	return nil
}

func (s *stdioSession) newCaller(ctx context.Context) caller {
	return &stdioCaller{s: s, ctx: ctx, ch: make(chan error, 1)}
}

// stdioCaller makes one call at a time on a stdioSession.
type stdioCaller struct {
	s   *stdioSession
	ctx context.Context
	ch  chan error // the response's verdict; room for one
	buf []byte
}

func (c *stdioCaller) call(id int64) error {
	c.buf = append(appendRequest(c.buf[:0], id, "tools/call", c.s.params), '\n')
	return c.roundTrip(c.ctx, id)
}

// roundTrip writes c.buf, request id, and waits for its response.
func (c *stdioCaller) roundTrip(ctx context.Context, id int64) error {
	s := c.s
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return s.err
	}
	s.pending[id] = c.ch
	s.mu.Unlock()
	forget := func() {
		s.mu.Lock()
		_, waiting := s.pending[id]
		delete(s.pending, id)
		s.mu.Unlock()
		if !waiting {
			<-c.ch // answered meanwhile; keep the channel empty
		}
	}
	if err := s.write(c.buf); err != nil {
		forget()
		return fmt.Errorf("writing to stdio server: %w", err)
	}
	select {
	case err := <-c.ch:
		return err
	case <-ctx.Done():
		forget()
		return ctx.Err()
	}
}
