package mcpsession

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/mcpgate/mcpgate/internal/httpkit"
)

// Body errors. Messages are public.
var (
	ErrTooLarge = httpkit.NewError(http.StatusRequestEntityTooLarge, "payload_too_large", "Request body too large")
	ErrReadBody = httpkit.NewError(http.StatusBadRequest, "bad_request", "Bad Request: could not read the request body")
)

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ReadBody reads a POST body into a pooled buffer, at most max bytes
// (ErrTooLarge beyond). Give the buffer back with PutBuffer once the
// messages decoded from it are no longer used.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) (*bytes.Buffer, *httpkit.Error) {
	if r.ContentLength > max {
		return nil, ErrTooLarge
	}
	buf := bufferPool.Get().(*bytes.Buffer)
	buf.Reset()
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max)); err != nil {
		PutBuffer(buf)
		if httpkit.IsTooLarge(err) {
			return nil, ErrTooLarge
		}
		return nil, &httpkit.Error{Status: ErrReadBody.Status, Code: ErrReadBody.Code, Message: ErrReadBody.Message, Err: err}
	}
	return buf, nil
}

// PutBuffer returns a body buffer to the pool unless it grew large.
func PutBuffer(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		bufferPool.Put(b)
	}
}
