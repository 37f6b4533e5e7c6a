package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Idle streams are opened over raw connections, without an HTTP client:
// the client then holds a socket per stream and nothing else, so that
// 20,000 of them fit beside the server being measured.

// idleStreams opens n idle SSE streams to u, par at a time, and returns
// their connections. With transport streamable each stream is a session's
// standalone GET stream (initialize, notifications/initialized, GET on one
// connection); with sse it is a legacy GET of the SSE endpoint.
func idleStreams(ctx context.Context, u *url.URL, transport string, n, par int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range min(par, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := openIdle(ctx, u, transport)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("opening stream %d: %w", i+1, err)
					}
					mu.Unlock()
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		closeConns(conns)
		return nil, firstErr
	}
	return conns, nil
}

func closeConns(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

func openIdle(ctx context.Context, u *url.URL, transport string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(c, 4<<10)
	err = func() error {
		if transport == transportSSE {
			_, err := rawExchange(c, br, "GET", u, http.Header{"Accept": {"text/event-stream"}}, nil, false)
			return err
		}
		body := appendRequest(nil, 0, "initialize", initializeParams(version20251125))
		resp, err := rawExchange(c, br, "POST", u, mcpHeaders("", ""), body, true)
		if err != nil {
			return fmt.Errorf("initializing: %w", err)
		}
		sid := resp.Header.Get("Mcp-Session-Id")
		if sid == "" {
			return errors.New("initializing: no Mcp-Session-Id")
		}
		hdr := mcpHeaders(sid, version20251125)
		if _, err := rawExchange(c, br, "POST", u, hdr, appendNotification(nil, "notifications/initialized"), true); err != nil {
			return fmt.Errorf("sending notifications/initialized: %w", err)
		}
		hdr = http.Header{"Accept": {"text/event-stream"}, "Mcp-Session-Id": {sid}, "Mcp-Protocol-Version": {version20251125}}
		_, err = rawExchange(c, br, "GET", u, hdr, nil, false)
		return err
	}()
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// rawExchange writes one HTTP/1.1 request on c and reads the response
// head; with readBody it also reads the body (a request/response), else it
// leaves the body unread (a stream) and requires 200 text/event-stream.
func rawExchange(c net.Conn, br *bufio.Reader, method string, u *url.URL, hdr http.Header, body []byte, readBody bool) (*http.Response, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, u.RequestURI(), u.Host)
	hdr.Write(&b)
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	if _, err := c.Write(b.Bytes()); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	if !readBody {
		if resp.StatusCode != http.StatusOK {
			return nil, &statusError{Status: resp.StatusCode}
		}
		return resp, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return nil, readStatusError(resp)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp, err
}

// readRSS returns the resident set size of process pid, in bytes.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(v) // "123456", "kB"
			if len(f) == 2 {
				kb, err := strconv.ParseInt(string(f[0]), 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

// settledRSS waits until pid's RSS stops growing (two readings half a
// second apart within 0.5%), at most max, and returns it.
func settledRSS(ctx context.Context, pid int, max time.Duration) (int64, error) {
	prev, err := readRSS(pid)
	if err != nil {
		return 0, err
	}
	end := time.Now().Add(max)
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		cur, err := readRSS(pid)
		if err != nil {
			return 0, err
		}
		if d := cur - prev; d < prev/200 && -d < prev/200 {
			return cur, nil
		}
		prev = cur
	}
	return prev, nil
}

// idleResult is what holding idle streams cost the server.
type idleResult struct {
	Streams     int
	Before      int64 // server RSS before, bytes
	After       int64 // server RSS with the streams open
	Open        time.Duration
	PerStreamKB float64
}

func (r *idleResult) String() string {
	return fmt.Sprintf("%d streams opened in %v: RSS %.1f MiB → %.1f MiB, %.1f kB per stream",
		r.Streams, r.Open.Round(time.Millisecond), float64(r.Before)/(1<<20), float64(r.After)/(1<<20), r.PerStreamKB)
}

// measureIdle opens n streams to u, measures the RSS of pid before and
// after, holds them for hold more, and closes them.
func measureIdle(ctx context.Context, u *url.URL, transport string, pid, n, par int, hold time.Duration) (*idleResult, error) {
	before, err := settledRSS(ctx, pid, 3*time.Second)
	if err != nil {
		return nil, fmt.Errorf("reading RSS: %w", err)
	}
	start := time.Now()
	conns, err := idleStreams(ctx, u, transport, n, par)
	if err != nil {
		return nil, err
	}
	defer closeConns(conns)
	open := time.Since(start)
	after, err := settledRSS(ctx, pid, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("reading RSS: %w", err)
	}
	if hold > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(hold):
		}
	}
	return &idleResult{Streams: n, Before: before, After: after, Open: open,
		PerStreamKB: float64(after-before) / float64(n) / 1000}, nil
}
