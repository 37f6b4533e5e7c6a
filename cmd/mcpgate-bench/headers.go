package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// Extra request headers: what a real client sends besides the protocol's
// own, an Authorization header above all. They are merged into the
// headers each caller renders once (renderHeaders), so they cost nothing
// per call. Their values may hold credentials: nothing in this file (nor
// any error it returns) includes a value.

// clientHeaders are the headers the load client sets itself, or that
// frame the request; an extra header may not replace them.
var clientHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
	"Keep-Alive": true, "Te": true, "Trailer": true, "Upgrade": true,
	"Content-Type": true, "Accept": true,
	"Mcp-Session-Id": true, "Mcp-Protocol-Version": true, "Mcp-Method": true, "Mcp-Name": true,
}

// checkHeader reports whether name: value can be sent as an extra header:
// name a token (RFC 9110 §5.1), value visible characters, spaces and tabs
// only (RFC 9110 §5.5; no CR or LF that would split the request), and not
// a header the client sets itself. The error never includes the value.
func checkHeader(name, value string) error {
	if !isToken(name) {
		return errors.New("the header name is empty or not an HTTP token")
	}
	if clientHeaders[textproto.CanonicalMIMEHeaderKey(name)] {
		return fmt.Errorf("%s is set by the load client itself", textproto.CanonicalMIMEHeaderKey(name))
	}
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("%s: empty value", name)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return fmt.Errorf("%s: the value holds a control character", name)
		}
	}
	return nil
}

// isToken reports whether s is an HTTP token: 1*tchar (RFC 9110 §5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parseHeader parses a -H value, "Name: value" (the value's surrounding
// spaces trimmed, RFC 9110 §5.5). The error never includes the value.
func parseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", errors.New(`want "Name: value"`)
	}
	value = strings.Trim(value, " \t")
	if err := checkHeader(name, value); err != nil {
		return "", "", err
	}
	return textproto.CanonicalMIMEHeaderKey(name), value, nil
}

// canonicalHeaders checks h's headers and returns a copy with canonical
// names; nil for none.
func canonicalHeaders(h http.Header) (http.Header, error) {
	if len(h) == 0 {
		return nil, nil
	}
	out := make(http.Header, len(h))
	for name, values := range h {
		for _, v := range values {
			if err := checkHeader(name, v); err != nil {
				return nil, fmt.Errorf("extra header: %w", err)
			}
			out.Add(name, v)
		}
	}
	return out, nil
}

// headerFlag is the repeatable -H "Name: value" flag. Set never fails: the
// flag package would print the refused value, which may be a token. It
// records the first problem instead, for check to report by the flag's
// position.
type headerFlag struct {
	h   http.Header
	n   int   // values given so far
	err error // the first malformed value's problem
}

// String implements flag.Value; it never shows the values.
func (f *headerFlag) String() string { return "" }

// Set implements flag.Value.
func (f *headerFlag) Set(s string) error {
	f.n++
	name, value, err := parseHeader(s)
	if err != nil {
		if f.err == nil {
			f.err = fmt.Errorf("-H #%d: %w", f.n, err)
		}
		return nil
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, value)
	return nil
}

// newHTTPTarget returns the target u, with the extra headers hdr on every
// request.
func newHTTPTarget(u *url.URL, client *http.Client, call toolCall, hdr http.Header) (*httpTarget, error) {
	extra, err := canonicalHeaders(hdr)
	if err != nil {
		return nil, err
	}
	return &httpTarget{url: u, client: client, call: call, extra: extra}, nil
}

// headers returns the headers of a POST or DELETE in session sid (sid and
// version may be ""): mcpHeaders and the target's extra headers.
func (t *httpTarget) headers(sid, version string) http.Header {
	h := mcpHeaders(sid, version)
	for name, values := range t.extra {
		h[name] = values
	}
	return h
}
