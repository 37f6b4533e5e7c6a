package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"time"
)

// httpTarget is an MCP endpoint reached over HTTP.
type httpTarget struct {
	url    *url.URL
	client *http.Client // for long-lived GET streams (legacy SSE) only
	call   toolCall
	extra  http.Header // sent on every request (headers.go); canonical names; nil: none
}

// newHTTPClient returns the net/http client of the long-lived legacy SSE
// streams, which keeps up to conns connections alive to one host.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// statusError is an HTTP response with an unexpected status.
type statusError struct {
	Status int
	Body   string
}

func (e *statusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body)
}

// isStatus reports whether err is an HTTP response with status code.
func isStatus(err error, code int) bool {
	var se *statusError
	return errors.As(err, &se) && se.Status == code
}

// readAll appends everything r yields to b.
func readAll(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// readStatusError reads (part of) an error response's body for its message.
func readStatusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return &statusError{Status: resp.StatusCode, Body: clip(trimSpace(b), 200)}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// mcpHeaders returns the headers of a POST in a session (sid and version
// may be "").
func mcpHeaders(sid, version string) http.Header {
	h := http.Header{
		"Content-Type": {"application/json"},
		"Accept":       {"application/json, text/event-stream"},
	}
	if sid != "" {
		h["Mcp-Session-Id"] = []string{sid}
	}
	if version != "" {
		h["Mcp-Protocol-Version"] = []string{version}
	}
	return h
}

// renderHeaders renders h as "Name: value\r\n" lines, in a fixed order.
func renderHeaders(h http.Header) []byte {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var b []byte
	for _, k := range names {
		for _, v := range h[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// httpCaller posts JSON-RPC messages with fixed headers on its own
// connection and reads the answers, as JSON or SSE, reusing its buffers.
type httpCaller struct {
	conn   *h1conn
	path   string
	hdr    []byte // rendered headers
	params []byte // tools/call params
	buf    []byte // request body
	resp   []byte // response message
	sse    *sseReader
}

func newHTTPCaller(conn *h1conn, u *url.URL, hdr http.Header, params []byte) *httpCaller {
	return &httpCaller{conn: conn, path: u.RequestURI(), hdr: renderHeaders(hdr), params: params, sse: newSSEReader(nil)}
}

// exchange posts request id (msg) and returns its response message, valid
// until the next call.
func (c *httpCaller) exchange(id int64, msg []byte) ([]byte, error) {
	if err := c.conn.do("POST", c.path, c.hdr, msg); err != nil {
		return nil, err
	}
	r := &c.conn.resp
	if r.status != http.StatusOK {
		body, _ := c.conn.readBody()
		return nil, &statusError{Status: r.status, Body: clip(trimSpace(body), 200)}
	}
	switch {
	case r.json:
		return c.conn.readBody()
	case r.sse:
		c.sse.reset(c.conn.bodyReader())
		for {
			_, data, err := c.sse.next()
			if err != nil {
				c.conn.drop()
				return nil, fmt.Errorf("reading SSE response: stream ended before the response: %w", err)
			}
			if got, ok := messageID(data); ok && got == id && isResponse(data) {
				c.resp = append(c.resp[:0], data...)
				// The stream ends after the response; read to its end so
				// that the connection carries the next request.
				_, err := io.Copy(io.Discard, c.sse.r)
				c.conn.finish(err)
				return c.resp, err
			}
		}
	}
	_ = c.conn.discard()
	return nil, fmt.Errorf("unexpected Content-Type in a %d response", r.status)
}

// notify posts a notification, which must be accepted (202, or 200/204
// from lenient servers).
func (c *httpCaller) notify(msg []byte) error {
	if err := c.conn.do("POST", c.path, c.hdr, msg); err != nil {
		return err
	}
	status := c.conn.resp.status
	switch status {
	case http.StatusAccepted, http.StatusOK, http.StatusNoContent:
		return c.conn.discard()
	}
	body, _ := c.conn.readBody()
	return &statusError{Status: status, Body: clip(trimSpace(body), 200)}
}

// close closes the caller's connection.
func (c *httpCaller) close() { c.conn.close() }

// call makes one tools/call.
func (c *httpCaller) call(id int64) error {
	c.buf = appendRequest(c.buf[:0], id, "tools/call", c.params)
	msg, err := c.exchange(id, c.buf)
	if err != nil {
		return err
	}
	return checkResponse(msg)
}

// streamableSession is a session on a Streamable HTTP endpoint, or, when
// stateless is set, the sessionless requests of revision 2026-07-28.
type streamableSession struct {
	t         *httpTarget
	id        string // Mcp-Session-Id; "" when the server gave none
	version   string // the negotiated revision
	stateless bool
	conn      *h1conn // the connection that opened it, for close
	ownsConn  bool    // close closes conn too
}

// openStreamable initializes a session on conn: initialize, then
// notifications/initialized.
func (t *httpTarget) openStreamable(conn *h1conn, version string) (*streamableSession, error) {
	c := newHTTPCaller(conn, t.url, t.headers("", ""), nil)
	msg, err := c.exchange(0, appendRequest(nil, 0, "initialize", initializeParams(version)))
	if err != nil {
		return nil, fmt.Errorf("initializing: %w", err)
	}
	sid := string(conn.resp.sessionID)
	var init struct {
		Result *struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	if err := json.Unmarshal(msg, &init); err != nil || init.Result == nil {
		return nil, fmt.Errorf("initializing: %w", checkResponse(msg))
	}
	s := &streamableSession{t: t, id: sid, version: init.Result.ProtocolVersion, conn: conn}
	if s.version == "" {
		s.version = version
	}
	c.hdr = renderHeaders(t.headers(s.id, s.version))
	if err := c.notify(appendNotification(nil, "notifications/initialized")); err != nil {
		_ = s.close(context.Background())
		return nil, fmt.Errorf("sending notifications/initialized: %w", err)
	}
	return s, nil
}

// statelessSession returns the "session" of 2026-07-28 requests: none, each
// request carries the protocol version and client information itself.
func (t *httpTarget) statelessSession() *streamableSession {
	return &streamableSession{t: t, version: version20260728, stateless: true}
}

// newCaller returns a caller with its own connection.
func (s *streamableSession) newCaller(ctx context.Context) caller {
	return s.callerOn(newH1Conn(ctx, s.t.url))
}

// callerOn returns a caller that uses conn.
func (s *streamableSession) callerOn(conn *h1conn) *httpCaller {
	if !s.stateless {
		return newHTTPCaller(conn, s.t.url, s.t.headers(s.id, s.version), s.t.call.callParams(nil))
	}
	// [SH26 §Request Metadata]: the version, method and name are mirrored
	// into headers; the body's _meta carries version, client info and
	// capabilities.
	h := s.t.headers("", version20260728)
	h["Mcp-Method"] = []string{"tools/call"}
	h["Mcp-Name"] = []string{s.t.call.Name}
	meta := json.RawMessage(`{"io.modelcontextprotocol/protocolVersion":"` + version20260728 +
		`","io.modelcontextprotocol/clientInfo":{"name":"mcpgate-bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`)
	return newHTTPCaller(conn, s.t.url, h, s.t.call.callParams(meta))
}

// close ends the session with DELETE, on the connection that opened it. A
// server that does not let clients end sessions (405) is not an error.
func (s *streamableSession) close(context.Context) error {
	if s.stateless || s.id == "" {
		return nil
	}
	if s.ownsConn {
		defer s.conn.close()
	}
	hdr := renderHeaders(s.t.headers(s.id, s.version))
	if err := s.conn.do("DELETE", s.t.url.RequestURI(), hdr, nil); err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	switch status := s.conn.resp.status; status {
	case http.StatusOK, http.StatusAccepted, http.StatusNoContent, http.StatusMethodNotAllowed:
		return s.conn.discard()
	default:
		body, _ := s.conn.readBody()
		return fmt.Errorf("deleting session: %w", &statusError{Status: status, Body: clip(trimSpace(body), 200)})
	}
}
