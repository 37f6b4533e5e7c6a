package httpkit

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CORSOptions configures CORS. Every zero value is safe: no origin is
// allowed, so no response is shared with any page and every preflight is
// refused.
type CORSOptions struct {
	// AllowedOrigins are the browser origins whose pages may call the
	// endpoint and read its responses, as "scheme://host[:port]" (http or
	// https; default ports may be left out). "*" is refused: responses are
	// only ever shared with listed origins, and Access-Control-Allow-Origin
	// always names the request's own origin.
	AllowedOrigins []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true, so
	// that browsers include cookies and browser-managed HTTP
	// authentication. A bearer token that a page sets in Authorization
	// itself does not need it. Zero (false) leaves it out.
	AllowCredentials bool
	// AllowedHeaders are the request headers a preflight may ask for,
	// case-insensitive. Zero means the MCP set: Authorization, Content-Type,
	// Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID.
	AllowedHeaders []string
	// ExposedHeaders are the response headers a page may read. Zero means
	// Mcp-Session-Id (the client needs it to continue the session, [T
	// §Session Management]), Mcp-Protocol-Version, WWW-Authenticate,
	// Retry-After and X-Request-Id.
	ExposedHeaders []string
	// AllowedMethods are the methods a preflight may ask for. Zero means
	// GET, POST and DELETE.
	AllowedMethods []string
	// MaxAge is how long a browser may cache a preflight answer. Zero means
	// ten minutes.
	MaxAge time.Duration
	// WriteError writes the 403 for a refused preflight. Nil means
	// WriteJSON.
	WriteError ErrorWriter
}

// CORS answers CORS preflights and marks responses for allowed origins
// (Fetch standard §3.2, "CORS protocol"). It does not refuse actual
// requests from other origins: that is the Guard's job; it only never
// shares their responses with the page.
type CORS struct {
	origins          map[string]bool // normalized origins
	allowCredentials bool
	allowedHeaders   map[string]bool // lower case
	allowHeaders     string          // Access-Control-Allow-Headers value
	exposeHeaders    string
	allowMethods     string
	methods          map[string]bool
	maxAge           string
	write            ErrorWriter
}

// ErrCORSPreflight is the answer to a preflight from an origin, or for a
// method or header, that is not allowed.
var ErrCORSPreflight = NewError(http.StatusForbidden, "cors_refused",
	"Forbidden: this cross-origin request is not allowed (origin, method or header not in the gateway's CORS allowlist)")

// NewCORS validates opts and returns a CORS.
func NewCORS(opts CORSOptions) (*CORS, error) {
	c := &CORS{
		origins:          make(map[string]bool),
		allowCredentials: opts.AllowCredentials,
		allowedHeaders:   make(map[string]bool),
		methods:          make(map[string]bool),
		write:            opts.WriteError,
	}
	for _, o := range opts.AllowedOrigins {
		if o == "*" {
			return nil, errors.New("parsing allowed origin \"*\": CORS origins must be listed one by one")
		}
		n, _, ok := parseOrigin(o)
		if !ok {
			return nil, fmt.Errorf("parsing allowed origin %q: not scheme://host[:port] with scheme http or https", o)
		}
		c.origins[n] = true
	}
	headers := opts.AllowedHeaders
	if len(headers) == 0 {
		headers = []string{"Authorization", "Content-Type", "Accept", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-ID"}
	}
	for _, h := range headers {
		c.allowedHeaders[strings.ToLower(h)] = true
	}
	c.allowHeaders = strings.Join(headers, ", ")
	exposed := opts.ExposedHeaders
	if len(exposed) == 0 {
		exposed = []string{"Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate", "Retry-After", HeaderRequestID}
	}
	c.exposeHeaders = strings.Join(exposed, ", ")
	methods := opts.AllowedMethods
	if len(methods) == 0 {
		methods = []string{http.MethodGet, http.MethodPost, http.MethodDelete}
	}
	for _, m := range methods {
		c.methods[m] = true
	}
	c.allowMethods = strings.Join(methods, ", ")
	maxAge := opts.MaxAge
	if maxAge <= 0 {
		maxAge = 10 * time.Minute
	}
	c.maxAge = strconv.Itoa(int(maxAge.Seconds()))
	if c.write == nil {
		c.write = WriteJSON
	}
	return c, nil
}

// Allowed reports whether origin (an Origin header value) is allowed.
func (c *CORS) Allowed(origin string) bool {
	n, _, ok := parseOrigin(origin)
	return ok && c.origins[n]
}

// Handler is CORS as Middleware. A preflight (OPTIONS with
// Access-Control-Request-Method) is answered here: 204 with the allowed
// methods and headers when origin, method and headers are all allowed,
// else 403. Any other request from an allowed origin gets
// Access-Control-Allow-Origin (the request's origin, never "*"),
// Access-Control-Expose-Headers and, if configured,
// Access-Control-Allow-Credentials, then passes on.
func (c *CORS) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header["Origin"]) == 0 || !c.handle(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// handle sets the CORS headers of a request with an Origin and reports
// whether it answered the request (a preflight). It is out of line so that
// the middleware's stack frame, which long requests (SSE streams) keep
// under them, stays small.
//
//go:noinline
func (c *CORS) handle(w http.ResponseWriter, r *http.Request) (answered bool) {
	origins := r.Header["Origin"]
	h := w.Header()
	h.Add("Vary", "Origin")
	allowed := len(origins) == 1 && c.Allowed(origins[0])
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		if !allowed || !c.methods[r.Header.Get("Access-Control-Request-Method")] ||
			!c.headersAllowed(r.Header.Values("Access-Control-Request-Headers")) {
			c.write(w, r, ErrCORSPreflight)
			return true
		}
		c.allow(h, origins[0])
		h.Set("Access-Control-Allow-Methods", c.allowMethods)
		h.Set("Access-Control-Allow-Headers", c.allowHeaders)
		h.Set("Access-Control-Max-Age", c.maxAge)
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	if allowed {
		c.allow(h, origins[0])
		h.Set("Access-Control-Expose-Headers", c.exposeHeaders)
	}
	return false
}

func (c *CORS) allow(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	if c.allowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// headersAllowed reports whether every header in the
// Access-Control-Request-Headers values is allowed.
func (c *CORS) headersAllowed(values []string) bool {
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "" && !c.allowedHeaders[name] {
				return false
			}
		}
	}
	return true
}
