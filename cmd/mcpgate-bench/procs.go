package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a server process the suite runs: the HTTP floor or a gateway.
// It runs in its own process group, so that stopping it stops what it
// started (a gateway's upstreams).
type child struct {
	name   string
	cmd    *exec.Cmd
	url    string // its MCP endpoint
	log    string // the file its output goes to
	exited chan struct{}
}

// pid is the process id whose RSS and CPU the suite reads.
func (c *child) pid() int { return c.cmd.Process.Pid }

// start starts argv with its output in dir/name.log.
func start(name, dir string, argv []string, stdout io.Writer) (*child, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// stop sends SIGTERM to the child's group, and SIGKILL after 5 seconds.
func (c *child) stop() {
	if c == nil {
		return
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.exited
	}
}

// failure describes a child that failed to come up, with its log's tail.
func (c *child) failure(err error) error {
	b, _ := os.ReadFile(c.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return fmt.Errorf("%s: %w; its log (%s) ends:\n  %s", c.name, err, c.log, strings.Join(lines, "\n  "))
}

// startHTTPFloor runs `mcpgate-bench http-floor` and reads its address.
func startHTTPFloor(ctx context.Context, self, dir, name string) (*child, error) {
	return startListening(ctx, dir, name, []string{self, "http-floor", "-listen", "127.0.0.1:0"})
}

// startListening runs argv, a server whose first line on stdout is
// "listening on http://ADDR" once it serves (the HTTP floor, the mcp-go
// peer), and waits for that line for up to a minute. Its MCP endpoint is
// ADDR/mcp.
func startListening(ctx context.Context, dir, name string, argv []string) (*child, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c, err := start(name, dir, argv, pw)
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		defer pr.Close()
		s, _ := bufio.NewReader(pr).ReadString('\n')
		line <- s
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case s := <-line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(s), "listening on ")
		if !ok {
			c.stop()
			return nil, c.failure(fmt.Errorf("unexpected first line %q", s))
		}
		c.url = addr + "/mcp"
		return c, nil
	case <-time.After(time.Minute): // an upstream behind it may start slowly
	case <-ctx.Done():
	}
	c.stop()
	return nil, c.failure(errors.New("did not start listening"))
}

// startGateway runs mcpgate in front of the stdio server upstream (a
// command line) or, when upstream is one http:// URL, in front of that
// remote Streamable HTTP upstream, on a free loopback port, and waits
// until /health reports it ready.
func startGateway(ctx context.Context, mcpgate, dir, name string, upstream []string) (*child, error) {
	return startGatewayWith(ctx, mcpgate, dir, name, []gatewayUpstream{{name: "bench", argv: upstream}}, "")
}

// gatewayUpstream is one upstream of a suite gateway: a stdio command line,
// or one http:// URL (a remote Streamable HTTP upstream).
type gatewayUpstream struct {
	name string
	argv []string
}

// gatewayYAML returns the configuration of a suite gateway listening on
// port, in front of ups, with extra (top-level YAML: auth, limits)
// appended.
func gatewayYAML(port int, ups []gatewayUpstream, extra string) string {
	// A generous session limit: the idle test holds 20,000 sessions.
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:%d\nsessions:\n  max: 100000\nupstreams:\n", port)
	for _, u := range ups {
		fmt.Fprintf(&b, "  - name: %s\n", u.name)
		if len(u.argv) == 1 && strings.HasPrefix(u.argv[0], "http://") {
			fmt.Fprintf(&b, "    type: http\n    url: %s\n", strconv.Quote(u.argv[0]))
			continue
		}
		fmt.Fprintf(&b, "    command: %s\n    args: [", strconv.Quote(u.argv[0]))
		for i, a := range u.argv[1:] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(a))
		}
		b.WriteString("]\n")
	}
	b.WriteString(extra)
	return b.String()
}

// startGatewayWith runs mcpgate in front of ups, with extra configuration,
// on a free loopback port, and waits until /health reports it ready.
func startGatewayWith(ctx context.Context, mcpgate, dir, name string, ups []gatewayUpstream, extra string) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(cfg, []byte(gatewayYAML(port, ups, extra)), 0o600); err != nil {
		return nil, err
	}
	// Warnings only: an access-log line per request would measure the
	// log's sink, not the gateway.
	c, err := start(name, dir, []string{mcpgate, "serve", "--config", cfg, "--log-level", "warn"}, nil)
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	c.url = base + "/mcp"
	if err := waitHealthy(ctx, base+"/health", `"status":"ok"`, c.exited); err != nil {
		c.stop()
		return nil, c.failure(err)
	}
	return c, nil
}

// waitHealthy polls url until it answers 200 with a body that contains
// want, for up to a minute (server-everything through npx may start
// slowly).
func waitHealthy(ctx context.Context, url, want string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(b), want) {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// cpuTime returns the CPU time (user + system) process pid has used.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields count from after its ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	// utime and stime are fields 14 and 15 of stat, 12 and 13 here.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// selfCPU is this process's CPU time (user and system), to the
// microsecond: /proc's figures count 10 ms ticks, too coarse for a short
// run of the load client.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// tcpSegments is the machine's count of TCP segments sent (Tcp OutSegs
// of /proc/net/snmp), or -1 when it cannot be read. On loopback every
// segment is sent by one local end and received by the other, and both
// ends pay for it in CPU: a call's segments are part of its cost.
func tcpSegments() int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return -1
	}
	return parseOutSegs(string(b))
}

// parseOutSegs reads OutSegs from /proc/net/snmp's text: a "Tcp:" line of
// names, then a "Tcp:" line of values.
func parseOutSegs(snmp string) int64 {
	var names []string
	for line := range strings.Lines(snmp) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Tcp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, name := range names {
			if name == "OutSegs" && i < len(f) {
				if n, err := strconv.ParseInt(f[i], 10, 64); err == nil {
					return n
				}
			}
		}
		return -1
	}
	return -1
}

// clockTicks is USER_HZ, which is 100 on every Linux architecture Go
// supports.
const clockTicks = 100
