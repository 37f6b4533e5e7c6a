package httpkit

import (
	"bufio"
	"net"
	"net/http"
	"time"
)

// recorder wraps a ResponseWriter to learn the status and size of the
// response. It keeps Flush and Hijack reachable (http.ResponseController
// finds them through Unwrap).
type recorder struct {
	http.ResponseWriter
	status int       // final status; 0 until written
	bytes  int64     // body bytes written
	start  time.Time // when AccessLog began the request
	date   bool      // set the Date header as the header goes out (Edge)
}

func (rw *recorder) WriteHeader(code int) {
	if rw.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		rw.setDate()
		rw.status = code
	}
	rw.ResponseWriter.WriteHeader(code)
}

// setDate sets the Date header from httpDate unless the handler set one;
// called once, before the final header is written.
func (rw *recorder) setDate() {
	if !rw.date {
		return
	}
	h := rw.ResponseWriter.Header()
	if _, set := h["Date"]; !set {
		h["Date"] = httpDate(time.Now())
	}
}

func (rw *recorder) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.setDate()
		rw.status = http.StatusOK
	}
	n, err := rw.ResponseWriter.Write(p)
	rw.bytes += int64(n)
	return n, err
}

// Flush implements http.Flusher for code that type-asserts it.
func (rw *recorder) Flush() {
	if rw.status == 0 {
		rw.setDate()
		rw.status = http.StatusOK
	}
	if f, ok := rw.ResponseWriter.(http.Flusher); ok {
		f.Flush() // no ResponseController to allocate per flush
		return
	}
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker when the underlying writer does.
func (rw *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(rw.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }
