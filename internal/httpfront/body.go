package httpfront

import (
	"bufio"
	"io"
	"net/http"
	"sync/atomic"
)

// body is a fast-lane request's body: the next remain bytes of the
// connection. Close does not drain it (net/http's server does not either):
// the connection loop decides after the handler whether what is left is
// small enough to skip or the connection must close.
type body struct {
	br     *bufio.Reader
	remain int64
	closed bool
	broken bool        // a read failed: the connection cannot carry another request
	done   atomic.Bool // all of it read: the connection is free for the watch
}

func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.br.Read(p)
	b.remain -= int64(n)
	if b.remain == 0 {
		b.done.Store(true)
	}
	switch {
	case err == io.EOF:
		b.broken = true
		return n, io.ErrUnexpectedEOF // the client promised more
	case err != nil:
		b.broken = true
		return n, err
	case b.remain == 0:
		return n, io.EOF // saves the caller a call
	}
	return n, nil
}

func (b *body) Close() error {
	b.closed = true
	return nil
}
