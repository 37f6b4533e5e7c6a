package httpup

import (
	"bytes"
	"io"
	"net/http"
)

// setBody gives req the body, with its length declared and GetBody for
// the transport's retry of a request on a dead kept-alive connection. It
// returns the reader, which tells whether the transport read all of the
// body (bodySent).
//
// The body is an io.NopCloser around a *bytes.Reader, a type net/http
// knows to be in memory: with any other type the HTTP/1 transport flushes
// the headers before copying the body (transferWriter.FlushHeaders), which
// costs every POST a second write system call and a second TCP segment
// (the fifth pass in docs/performance.md).
func setBody(req *http.Request, body []byte) *bytes.Reader {
	if len(body) == 0 {
		req.Body, req.GetBody = http.NoBody, nil
		return nil
	}
	r := bytes.NewReader(body)
	req.Body = io.NopCloser(r)
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) {
		// A retry follows only an attempt that wrote nothing to the
		// connection (a POST is not replayable otherwise): rewinding
		// leaves bodySent accurate.
		r.Seek(0, io.SeekStart)
		return io.NopCloser(r), nil
	}
	return r
}

// bodySent reports whether the body read by r may have reached the
// server: the transport read it to the end (or there was none of ours).
// Call it only once the round trip has failed: Go's transports return an
// error only after the request's writer has stopped (HTTP/1 waits for its
// write loop, HTTP/2 for the body's close), so the reader is no longer
// in use. Until the last byte is read the server cannot have the whole
// message (its length is declared), so a request aborted before that can
// be sent again on a new session without the risk of running it twice.
func bodySent(r *bytes.Reader) bool {
	return r == nil || r.Len() == 0
}
