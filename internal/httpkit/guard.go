package httpkit

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
)

// GuardOptions configures a Guard. The zero value checks Origin only, and
// refuses every Origin: browsers get 403, non-browser clients (which send
// no Origin) pass.
type GuardOptions struct {
	// Loopback accepts the loopback Hosts localhost, 127.0.0.1 and [::1],
	// with any port, and Origins on those hosts (http or https, any port).
	// Set it on loopback listeners: a DNS-rebinding page reaches them under
	// its own host name, which fails the Host check.
	Loopback bool
	// AllowedHosts are further Host values accepted: "name" (any port) or
	// "name:port", and "[v6]" or "[v6]:port". When it is empty and Loopback
	// is false, Host is not checked.
	AllowedHosts []string
	// AllowedOrigins are browser origins accepted, as "scheme://host[:port]"
	// (http or https; default ports may be left out). A request without an
	// Origin header always passes the Origin check.
	AllowedOrigins []string
	// WriteError writes the 403 response. Nil means WriteJSON; the MCP
	// endpoint passes a writer of JSON-RPC error objects.
	WriteError ErrorWriter
	// Logger receives a line for each refused request. Nil discards.
	Logger *slog.Logger
}

// Guard refuses requests whose Host or Origin header is not allowed, against
// DNS rebinding ([T §Security Warning] 1: validate Origin on all incoming
// connections; a present and invalid Origin gets 403). It is a Check plus a
// Handler, like net/http's CrossOriginProtection.
type Guard struct {
	loopback  bool
	checkHost bool
	hosts     map[string]bool // "name" (any port) and "name:port", lower case
	origins   map[string]bool // normalized "scheme://host[:port]"
	write     ErrorWriter
	log       *slog.Logger
}

// The errors a Guard returns.
var (
	ErrForbiddenHost   = NewError(http.StatusForbidden, "forbidden_host", "Host not allowed")
	ErrForbiddenOrigin = NewError(http.StatusForbidden, "forbidden_origin", "Origin not allowed")
)

// NewGuard validates opts and returns a Guard.
func NewGuard(opts GuardOptions) (*Guard, error) {
	g := &Guard{
		loopback:  opts.Loopback,
		checkHost: opts.Loopback || len(opts.AllowedHosts) > 0,
		hosts:     make(map[string]bool),
		origins:   make(map[string]bool),
		write:     opts.WriteError,
		log:       opts.Logger,
	}
	if g.write == nil {
		g.write = WriteJSON
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	for _, h := range opts.AllowedHosts {
		host, port, ok := parseHostPort(h)
		if !ok {
			return nil, fmt.Errorf("parsing allowed host %q: not host or host:port", h)
		}
		g.hosts[hostKey(host, port)] = true
	}
	for _, o := range opts.AllowedOrigins {
		n, _, ok := parseOrigin(o)
		if !ok {
			return nil, fmt.Errorf("parsing allowed origin %q: not scheme://host[:port] with scheme http or https", o)
		}
		g.origins[n] = true
	}
	return g, nil
}

// Check returns nil if r may pass, else ErrForbiddenHost or
// ErrForbiddenOrigin.
func (g *Guard) Check(r *http.Request) error {
	if g.checkHost {
		host, port, ok := parseHostPort(r.Host)
		if !ok || !(g.loopback && loopbackHost(host) || g.hosts[hostKey(host, "")] || port != "" && g.hosts[hostKey(host, port)]) {
			return ErrForbiddenHost
		}
	}
	origins := r.Header["Origin"]
	if len(origins) == 0 {
		return nil // not a browser, or a same-origin GET: nothing to check
	}
	if len(origins) > 1 {
		return ErrForbiddenOrigin
	}
	n, host, ok := parseOrigin(origins[0])
	if !ok || !(g.loopback && loopbackHost(host) || g.origins[n]) {
		return ErrForbiddenOrigin
	}
	return nil
}

// Handler is the guard as Middleware: refused requests get 403 written by
// the configured ErrorWriter.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.Check(r); err != nil {
			g.refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuse logs and writes a refusal. It is out of line so that the
// handler's stack frame, which long requests (SSE streams) keep under
// them, stays small.
//
//go:noinline
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, err error) {
	e := AsError(err)
	g.log.InfoContext(r.Context(), "request refused by host/origin guard", "code", e.Code,
		"host", truncate(r.Host), "origin", truncate(r.Header.Get("Origin")),
		"request_id", RequestIDFromContext(r.Context()))
	g.write(w, r, e)
}

func truncate(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// loopbackHost reports whether host (lower case, IPv6 without brackets) is
// one of the loopback names accepted in Loopback mode.
func loopbackHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func hostKey(host, port string) string {
	if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	if port == "" {
		return host
	}
	return host + ":" + port
}

// parseHostPort splits a Host value strictly: a DNS name of letters,
// digits, hyphens and inner dots, a dotted-quad IPv4 address, or a bracketed
// IPv6 address without zone, then optionally ":" and a port 1-65535 without
// leading zeros. The host is returned in lower case, IPv6 unbracketed and
// canonical.
func parseHostPort(s string) (host, port string, ok bool) {
	if s == "" || len(s) > 255 {
		return "", "", false
	}
	rest := ""
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false
		}
		addr, err := netip.ParseAddr(s[1:end])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", "", false
		}
		host, rest = addr.String(), s[end+1:]
	} else {
		host, rest = s, ""
		if i := strings.IndexByte(s, ':'); i >= 0 {
			host, rest = s[:i], s[i:]
		}
		if !validName(host) {
			return "", "", false
		}
		host = strings.ToLower(host)
	}
	if rest != "" {
		if rest[0] != ':' || !validPort(rest[1:]) {
			return "", "", false
		}
		port = rest[1:]
	}
	return host, port, true
}

// validName accepts DNS labels (letters, digits, inner hyphens) joined by
// single dots, with no leading or trailing dot; dotted-quad addresses pass
// as names. Anything else (percent signs, underscores, spaces, non-ASCII,
// "@", "\") is refused.
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") { // no allocation per request
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// parseOrigin parses an Origin value as a browser serializes it (RFC 6454
// §6.2): scheme "://" host [":" port], nothing else; only http and https.
// It returns the normalized origin (lower case, default port dropped) and
// the host. "null" and anything with a path, user info or query fail.
func parseOrigin(s string) (normalized, host string, ok bool) {
	scheme, rest, found := strings.Cut(s, "://")
	if !found {
		return "", "", false
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return "", "", false
	}
	host, port, ok := parseHostPort(rest)
	if !ok {
		return "", "", false
	}
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	return scheme + "://" + hostKey(host, port), host, true
}
