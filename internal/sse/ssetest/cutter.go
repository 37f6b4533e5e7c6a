package ssetest

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// Cutter is an http.RoundTripper that, once armed, ends the next SSE
// response to a POST right after the first event containing Marker, as a
// dropped connection would (io.ErrUnexpectedEOF). It records whether a
// client came back with Last-Event-ID, which is what resuming looks like.
type Cutter struct {
	Base   http.RoundTripper
	Marker string // e.g. "\ndata: {" (the first data event) or "id: "

	Armed   atomic.Bool
	Cuts    atomic.Int32
	Resumed atomic.Bool
}

// RoundTrip implements http.RoundTripper.
func (c *Cutter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && req.Header.Get("Last-Event-ID") != "" {
		c.Resumed.Store(true)
	}
	resp, err := c.Base.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp, err
	}
	if !c.Armed.CompareAndSwap(true, false) {
		return resp, err
	}
	c.Cuts.Add(1)
	resp.Body = &cutBody{rc: resp.Body, marker: c.Marker}
	return resp, nil
}

// cutBody passes bytes through until an event containing marker has
// ended, then reports an unexpected EOF.
type cutBody struct {
	rc     io.ReadCloser
	marker string
	seen   []byte
	done   bool
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := b.rc.Read(p)
	b.seen = append(b.seen, p[:n]...)
	if i := strings.Index(string(b.seen), b.marker); i >= 0 {
		if j := strings.Index(string(b.seen[i:]), "\n\n"); j >= 0 {
			end := len(b.seen) - n // bytes already handed out before this read
			b.done = true
			b.rc.Close()
			return i + j + 2 - end, nil
		}
	}
	return n, err
}

func (b *cutBody) Close() error { return b.rc.Close() }
