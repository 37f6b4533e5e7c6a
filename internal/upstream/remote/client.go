package remote

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/upstream/remote/h1"
)

// NewTransport returns an http.Transport tuned for a gateway's upstream
// traffic: keep-alive connections, enough idle connections per host that
// 64 concurrent calls to one upstream reuse theirs instead of dialling
// (Go's default keeps 2), HTTP/2 when the server offers it over TLS, and
// bounded dial, TLS and header waits. The gateway builds one and shares it
// between all its remote upstreams.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2: true,
		// No "Accept-Encoding: gzip" of the Transport's own (a header map
		// per request, and a gzip reader per compressed answer): MCP
		// messages are small, the gateway re-encodes nothing it forwards,
		// and a server compressing them would cost both sides more CPU than
		// the bytes saved on the links a gateway usually has to its
		// upstreams.
		DisableCompression:    true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// No ResponseHeaderTimeout: a POST answered with an SSE stream may
		// take as long as the tool runs; calls are bounded by their ctx.
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// NewRoundTripper returns the transport a gateway's remote upstreams
// share: plain http:// served by the lean HTTP/1.1 transport (h1), and
// everything else (https://, proxies) by NewTransport's.
func NewRoundTripper() *h1.Transport { return h1.New(NewTransport()) }

// NewClient returns a client over t that never follows redirects: a
// redirect would carry the upstream's credential header to wherever the
// server points (SSRF, credential leak), so it is an error instead.
func NewClient(t http.RoundTripper) *http.Client {
	return &http.Client{Transport: t, CheckRedirect: noRedirect}
}

// noRedirect is NewClient's CheckRedirect.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Direct returns the transport under c (an *http.Transport or an
// *h1.Transport) when sending a request through it directly does what c.Do
// would: c is one of NewClient's (it never follows a redirect), without a
// cookie jar or a timeout. Otherwise it returns nil. Client.Do clones every request's headers (in case of a
// redirect), builds closures and wraps errors in a *url.Error, about five
// allocations per call that a gateway's call to its upstream does not
// need; the Transport is where the work is.
func Direct(c *http.Client) http.RoundTripper {
	if c == nil || c.Jar != nil || c.Timeout != 0 || c.CheckRedirect == nil ||
		reflect.ValueOf(c.CheckRedirect).Pointer() != reflect.ValueOf(noRedirect).Pointer() {
		return nil
	}
	switch t := c.Transport.(type) {
	case nil:
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			return dt
		}
	case *http.Transport:
		return t
	case *h1.Transport:
		return t
	}
	return nil // another RoundTripper: Client.Do checks what it returns
}

// CheckURL checks an upstream URL: absolute http or https, a host, no
// user info (a password in a URL ends up in logs) and no fragment.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("want an http:// or https:// URL")
	case u.Host == "":
		return nil, errors.New("the URL has no host")
	case u.User != nil:
		return nil, errors.New("the URL must not carry user info; use headers or a credential")
	case u.Fragment != "":
		return nil, errors.New("the URL must not have a fragment")
	}
	return u, nil
}

// IsEventStream reports whether a Content-Type is text/event-stream.
func IsEventStream(contentType string) bool { return mediaType(contentType) == "text/event-stream" }

// IsJSON reports whether a Content-Type is application/json.
func IsJSON(contentType string) bool { return mediaType(contentType) == "application/json" }

func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i < 0 {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

// AppendBody appends resp's body, of at most max bytes, to dst: a longer
// one is an error, since the gateway bounds what it holds of any upstream
// answer. A declared Content-Length sizes the read exactly. dst may be a
// pooled buffer (GetBuffer): jsonrpc.Decode copies what it keeps, so a
// body that is only decoded need not be allocated per call.
func AppendBody(dst []byte, resp *http.Response, max int64) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 {
		if n > max {
			return dst, fmt.Errorf("the response is larger than %d bytes", max)
		}
		dst = slices.Grow(dst, int(n))
		b := dst[len(dst) : len(dst)+int(n)]
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return dst, fmt.Errorf("reading the response: %w", err)
		}
		return dst[:len(dst)+int(n)], nil
	}
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, 512)
		}
		n, err := resp.Body.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)-start) > max {
			return dst, fmt.Errorf("the response is larger than %d bytes", max)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, fmt.Errorf("reading the response: %w", err)
		}
	}
}

// StatusError describes an unexpected HTTP status without echoing the
// body, which may be large or hostile.
func StatusError(resp *http.Response) error {
	return &HTTPStatusError{Code: resp.StatusCode}
}

// Drain reads a little of a body before closing it, so that the
// connection can be reused, and closes it.
func Drain(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	body.Close()
}

// NetError strips the URL from a client error (*url.Error): an upstream URL
// may carry a key in its query, and errors end up in logs and on /health.
func NetError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}
