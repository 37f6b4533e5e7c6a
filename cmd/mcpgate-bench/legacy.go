package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// legacySession is a session of the 2024-11-05 HTTP+SSE transport: a GET
// stream that first names the endpoint to POST messages to, and then
// carries every response. A reader goroutine hands responses to the
// waiting callers by id; a session with one caller (direct) has no reader
// goroutine: its caller reads its responses from the stream itself, as a
// Streamable HTTP caller reads them from its POST, so that both
// transports cost the load client alike (no goroutine switch per call).
type legacySession struct {
	t        *httpTarget
	endpoint *url.URL // where messages are POSTed
	stop     context.CancelFunc
	done     chan struct{} // closed when the reader has returned

	// With direct set, the one caller reads the stream (sr, body).
	direct bool
	sr     *sseReader
	body   io.ReadCloser

	waiters // pending calls; err: why the reader stopped, set before done is closed
}

// errStreamEnded is the error of calls whose SSE stream has ended.
var errStreamEnded = errors.New("SSE stream ended")

// openLegacy opens the SSE stream at sseURL and initializes the session.
// ctx bounds the session's whole life, not just the opening. A direct
// session serves one caller at a time, who reads the stream itself.
func (t *httpTarget) openLegacy(ctx context.Context, direct bool) (*legacySession, error) {
	ctx, stop := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url.String(), nil)
	if err != nil {
		stop()
		return nil, err
	}
	for name, values := range t.extra {
		req.Header[name] = values
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := t.client.Do(req)
	if err != nil {
		stop()
		return nil, fmt.Errorf("opening SSE stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		err := readStatusError(resp)
		resp.Body.Close()
		stop()
		return nil, fmt.Errorf("opening SSE stream: %w", err)
	}
	sr := newSSEReader(resp.Body)
	// [2024-11-05 transports §HTTP with SSE]: the first event is
	// "endpoint", whose data is the URI to POST messages to.
	name, data, err := sr.next()
	if err == nil && string(name) != "endpoint" {
		err = fmt.Errorf("first event is %q, want endpoint", name)
	}
	var endpoint *url.URL
	if err == nil {
		endpoint, err = resp.Request.URL.Parse(string(data))
	}
	if err != nil {
		resp.Body.Close()
		stop()
		return nil, fmt.Errorf("reading the endpoint event: %w", err)
	}
	s := &legacySession{t: t, endpoint: endpoint, stop: stop, done: make(chan struct{}), waiters: waiters{pending: map[int64]chan error{}},
		direct: direct, sr: sr, body: resp.Body}
	if direct {
		close(s.done)
	} else {
		go s.read(sr, resp.Body)
	}

	c := s.newCaller(ctx).(*legacyCaller)
	defer c.h.conn.close()
	c.buf = appendRequest(c.buf[:0], 0, "initialize", initializeParams(version20241105))
	if err := c.roundTrip(0); err != nil {
		s.close(ctx)
		return nil, fmt.Errorf("initializing: %w", err)
	}
	if err := c.h.notify(appendNotification(nil, "notifications/initialized")); err != nil {
		s.close(ctx)
		return nil, fmt.Errorf("sending notifications/initialized: %w", err)
	}
	return s, nil
}

// read hands each response on the stream to its caller.
func (s *legacySession) read(sr *sseReader, body io.ReadCloser) {
	defer close(s.done)
	defer body.Close()
	var err error
	for {
		var name, data []byte
		name, data, err = sr.next()
		if err != nil {
			break
		}
		if len(name) > 0 && string(name) != "message" {
			continue
		}
		id, ok := messageID(data)
		if !ok || !isResponse(data) {
			continue // a notification or a server request: not what we wait for
		}
		s.deliver(id, data)
	}
	s.fail(err)
}

// close ends the stream and waits for the reader.
func (s *legacySession) close(context.Context) error {
	s.stop()
	<-s.done
	if s.direct {
		s.body.Close()
	}
	return nil
}

func (s *legacySession) newCaller(ctx context.Context) caller {
	h := newHTTPCaller(newH1Conn(ctx, s.endpoint), s.endpoint, s.t.headers("", ""), s.t.call.callParams(nil))
	return &legacyCaller{ctx: ctx, s: s, h: h, ch: make(chan error, 1)}
}

// legacyCaller posts requests and waits for their responses on the stream.
type legacyCaller struct {
	ctx context.Context
	s   *legacySession
	h   *httpCaller
	ch  chan error // the response's verdict; room for one
	buf []byte
}

func (c *legacyCaller) close() { c.h.close() }

func (c *legacyCaller) call(id int64) error {
	c.buf = appendRequest(c.buf[:0], id, "tools/call", c.h.params)
	return c.roundTrip(id)
}

// roundTrip posts c.buf, request id, and waits for its response.
func (c *legacyCaller) roundTrip(id int64) error {
	s := c.s
	if s.direct {
		return c.roundTripDirect(id)
	}
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return s.err
	}
	s.pending[id] = c.ch
	s.mu.Unlock()
	if err := c.h.notify(c.buf); err != nil {
		s.mu.Lock()
		_, waiting := s.pending[id]
		delete(s.pending, id)
		s.mu.Unlock()
		if !waiting {
			<-c.ch // the reader answered meanwhile; keep the channel empty
		}
		return err
	}
	select {
	case err := <-c.ch:
		return err
	case <-c.ctx.Done():
		s.mu.Lock()
		_, waiting := s.pending[id]
		delete(s.pending, id)
		s.mu.Unlock()
		if !waiting {
			<-c.ch
		}
		return c.ctx.Err()
	}
}

// roundTripDirect posts c.buf, request id, and reads the stream up to its
// response (a direct session's one caller). Cancelling the session's
// context ends the stream, and with it a blocked read.
func (c *legacyCaller) roundTripDirect(id int64) error {
	s := c.s
	if s.err != nil {
		return s.err
	}
	if err := c.h.notify(c.buf); err != nil {
		return err
	}
	for {
		name, data, err := s.sr.next()
		if err != nil {
			s.err = fmt.Errorf("%w: %w", errStreamEnded, err)
			return s.err
		}
		if len(name) > 0 && string(name) != "message" {
			continue
		}
		if got, ok := messageID(data); ok && got == id && isResponse(data) {
			return checkResponse(data)
		}
		// A notification, a server request or a stale response: not ours.
	}
}
