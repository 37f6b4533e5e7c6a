package stdio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Bounds on what one process may make the gateway hold.
const (
	maxStderrLine = 4 << 10 // longer stderr lines are logged truncated
	maxInbound    = 1024    // unanswered requests from the upstream
	maxCancelled  = 1024    // remembered cancelled ids, to log late answers quietly
	logPrefix     = 32      // bytes of a malformed line shown in logs
)

var (
	// errOutputClosed: the process closed its stdout, normally by exiting.
	errOutputClosed = errors.New("upstream closed its output")
	// errStopping: the supervisor is shutting the process down.
	errStopping = errors.New("upstream stopping")
)

// process is one run of the upstream's command: its pipes and the four
// goroutines serving them (reader, writer, stderr logger, reaper). The
// Conn's supervisor owns it: it spawns it, waits on dead, and calls stop,
// which returns only once the child is reaped and every goroutine has ended.
type process struct {
	c         *Conn
	cmd       *exec.Cmd
	pid       int
	startedAt time.Time

	stdin  *os.File // our end of the child's stdin
	stdout *os.File // our end of the child's stdout
	stderr *os.File // our end of the child's stderr

	writeq chan []byte // lines for the writer, each ending in '\n'
	spare  chan []byte // written lines, emptied, for the next requests (lineBuffer)

	dead     chan struct{} // closed when the process can serve no more
	deadOnce sync.Once
	deadErr  error // why; written once before dead is closed

	exited  chan struct{} // closed when the child has been reaped
	exitErr error         // cmd.Wait's result; written before exited is closed

	wg sync.WaitGroup // the four goroutines

	mu sync.Mutex // guards the maps below
	// pending holds the calls waiting for a response, by upstream id; each
	// channel has room for exactly that response.
	pending map[int64]chan *jsonrpc.Message
	// inbound holds the ids of the upstream's requests not yet answered.
	inbound map[string]struct{}
	// cancelled holds ids the gateway cancelled, so that a late answer is
	// expected rather than unknown.
	cancelled map[int64]struct{}
}

// spawn starts the command in its own process group with fresh pipes and
// starts the goroutines that serve it.
func (c *Conn) spawn() (*process, error) {
	var pipes [3][2]*os.File // stdin, stdout, stderr: {read, write}
	closeAll := func() {
		for _, pp := range pipes {
			for _, f := range pp {
				if f != nil {
					f.Close()
				}
			}
		}
	}
	for i := range pipes {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("creating pipes: %w", err)
		}
		pipes[i] = [2]*os.File{r, w}
	}
	cmd := exec.Command(c.opts.Command, c.opts.Args...)
	cmd.Env = c.env
	cmd.Dir = c.opts.Dir
	// The child's ends are passed as they are (os/exec starts no copying
	// goroutines for *os.File), so ours stay pollable: Close and deadlines
	// interrupt blocked reads and writes.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pipes[0][0], pipes[1][1], pipes[2][1]
	// Own process group: shutdown signals go to the group, reaching
	// grandchildren (npx → node, sh → server).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err := cmd.Start()
	pipes[0][0].Close()
	pipes[1][1].Close()
	pipes[2][1].Close()
	if err != nil {
		pipes[0][1].Close()
		pipes[1][0].Close()
		pipes[2][0].Close()
		return nil, fmt.Errorf("starting process: %w", err)
	}
	p := &process{
		c:         c,
		cmd:       cmd,
		pid:       cmd.Process.Pid,
		startedAt: time.Now(),
		stdin:     pipes[0][1],
		stdout:    pipes[1][0],
		stderr:    pipes[2][0],
		writeq:    make(chan []byte, c.opts.WriteQueue),
		spare:     make(chan []byte, spareLines),
		dead:      make(chan struct{}),
		exited:    make(chan struct{}),
		pending:   make(map[int64]chan *jsonrpc.Message),
		inbound:   make(map[string]struct{}),
		cancelled: make(map[int64]struct{}),
	}
	c.log.Info("upstream process started", "pid", p.pid)
	p.wg.Add(4)
	go p.readLoop()
	go p.writeLoop()
	go p.stderrLoop()
	go p.reap()
	return p, nil
}

// die marks the process unusable; the first cause wins.
func (p *process) die(err error) {
	p.deadOnce.Do(func() {
		p.deadErr = err
		close(p.dead)
	})
}

// alive reports whether p is non-nil and not dead. The supervisor clears
// Conn.ready shortly after a death; this closes the gap.
func (p *process) alive() bool {
	if p == nil {
		return false
	}
	select {
	case <-p.dead:
		return false
	default:
		return true
	}
}

// unavailable is the error for calls the dead process cannot serve.
func (p *process) unavailable() error {
	return fmt.Errorf("upstream %q: %w (%v)", p.c.opts.Name, upstream.ErrUnavailable, p.deadErr)
}

// cause describes why the process died, for logs and Status: the exit
// status when it ended on its own, else what went wrong.
func (p *process) cause() error {
	err := p.deadErr
	select {
	case <-p.exited:
		if errors.Is(err, errOutputClosed) || errors.Is(err, syscall.EPIPE) {
			return fmt.Errorf("process exited (%s)", exitText(p.exitErr))
		}
	default:
	}
	return err
}

// call registers id, queues line and waits for the response. sent reports
// whether line was queued, so that the caller knows whether to cancel.
func (p *process) call(ctx context.Context, id int64, line []byte) (m *jsonrpc.Message, sent bool, err error) {
	ch := replyChans.Get().(chan *jsonrpc.Message)
	// Every path below leaves ch empty and unreferenced: either its response
	// was received, or forget took it out of pending before anyone sent.
	defer replyChans.Put(ch)
	p.mu.Lock()
	p.pending[id] = ch
	p.mu.Unlock()
	if err := p.send(ctx, line); err != nil {
		p.forget(id, ch, false)
		return nil, false, err
	}
	select {
	case m := <-ch:
		return m, true, nil
	case <-p.dead:
		if m, ok := p.forget(id, ch, false); ok { // the response raced the death
			return m, true, nil
		}
		return nil, true, p.unavailable()
	case <-ctx.Done():
		if m, ok := p.forget(id, ch, true); ok {
			return m, true, nil
		}
		return nil, true, ctx.Err()
	}
}

// replyChans recycles the channels calls wait on (two allocations each).
var replyChans = sync.Pool{New: func() any { return make(chan *jsonrpc.Message, 1) }}

// forget removes the pending call id, whose channel is ch; abandoned
// records that a late answer is to be expected. If the reader took the call
// out first, it is handing the response over on ch, and forget returns it.
func (p *process) forget(id int64, ch chan *jsonrpc.Message, abandoned bool) (*jsonrpc.Message, bool) {
	p.mu.Lock()
	_, waiting := p.pending[id]
	delete(p.pending, id)
	if waiting && abandoned {
		if len(p.cancelled) >= maxCancelled {
			clear(p.cancelled)
		}
		p.cancelled[id] = struct{}{}
	}
	p.mu.Unlock()
	if waiting {
		return nil, false
	}
	// The send cannot block: the channel has room for the response.
	return <-ch, true
}

// takeInbound reports whether id is an unanswered request of the upstream,
// and marks it answered.
func (p *process) takeInbound(id []byte) bool {
	p.mu.Lock()
	_, ok := p.inbound[string(id)]
	delete(p.inbound, string(id))
	p.mu.Unlock()
	return ok
}

// send queues line for the writer, waiting for room bounded by ctx.
func (p *process) send(ctx context.Context, line []byte) error {
	select {
	case p.writeq <- line:
		return nil
	case <-p.dead:
		return p.unavailable()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// trySend queues line if there is room; the reader uses it for its own
// answers so that it never blocks on the writer.
func (p *process) trySend(line []byte) {
	select {
	case p.writeq <- line:
	default:
		p.c.log.Warn("upstream write queue full; answer dropped")
	}
}

// stop shuts the process down in the order [L §Shutdown] gives for stdio:
// close its stdin, wait; SIGTERM, wait; SIGKILL. Signals go to the whole
// process group. stop returns when the child is reaped and the goroutines
// have ended.
func (p *process) stop(grace time.Duration) {
	p.die(errStopping)
	p.stdin.Close()
	if !p.waitExit(grace) {
		p.c.log.Info("upstream still running after stdin closed; sending SIGTERM", "pid", p.pid)
		signalGroup(p.pid, syscall.SIGTERM)
		if !p.waitExit(grace) {
			p.c.log.Warn("upstream still running after SIGTERM; sending SIGKILL", "pid", p.pid)
			signalGroup(p.pid, syscall.SIGKILL)
			<-p.exited
		}
	}
	p.wg.Wait()
	p.stdout.Close()
	p.stderr.Close()
}

func (p *process) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		return false
	}
}

// reap waits for the child to exit, so that there is never a zombie, then
// cleans up after it.
func (p *process) reap() {
	defer p.wg.Done()
	err := p.cmd.Wait()
	p.exitErr = err
	close(p.exited)
	p.c.log.Info("upstream process exited", "pid", p.pid, "exit", exitText(err))
	// What is left of the group (grandchildren) would live on holding our
	// pipes: end it.
	signalGroup(p.pid, syscall.SIGKILL)
	// Let the reader take what the child wrote before exiting, but stop
	// waiting for an EOF that something outside the group may withhold.
	deadline := time.Now().Add(p.c.opts.ShutdownGrace)
	p.stdout.SetReadDeadline(deadline)
	p.stderr.SetReadDeadline(deadline)
}

// signalGroup signals the process group led by pid. A group that is gone
// already is not an error.
func signalGroup(pid int, sig syscall.Signal) {
	_ = syscall.Kill(-pid, sig)
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
