package httpup

import (
	"bytes"
	"io"
	"net/http"
	"sync/atomic"
)

// postBody is a POST's body that records whether the transport read all
// of it: until then the server cannot have the whole message (its length
// is declared), so a request aborted before that can be sent again on a
// new session without the risk of running it twice. It costs what the
// *bytes.Reader it replaces costs: one allocation.
type postBody struct {
	bytes.Reader
	read atomic.Bool // the last byte was read
}

func (b *postBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if b.Reader.Len() == 0 {
		b.read.Store(true)
	}
	return n, err
}

// Close implements io.Closer, so the transport does not wrap the body.
func (b *postBody) Close() error { return nil }

// setBody gives req the body, with its length declared and GetBody for
// the transport's retry of a request on a dead kept-alive connection (a
// retry re-reads it: read then stays true, erring on the safe side).
func setBody(req *http.Request, body []byte) {
	b := &postBody{}
	b.Reset(body)
	req.Body = b
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) {
		b.Seek(0, io.SeekStart)
		return b, nil
	}
	if len(body) == 0 {
		req.Body, req.GetBody = http.NoBody, nil
	}
}

// bodySent reports whether req's body may have reached the server: it was
// read to the end (or req has none of ours).
func bodySent(req *http.Request) bool {
	b, ok := req.Body.(*postBody)
	return !ok || b.read.Load()
}
