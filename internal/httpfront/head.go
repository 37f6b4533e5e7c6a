package httpfront

import "bytes"

var (
	crlf          = []byte("\r\n")
	crlfCRLF      = []byte("\r\n\r\n")
	proto11       = []byte("HTTP/1.1")
	keepAlive     = []byte("keep-alive")
	hdrCL         = []byte("content-length")
	hdrHost       = []byte("host")
	hdrConn       = []byte("connection")
	hdrH2Settings = []byte("http2-settings")
	hdrRefused    = [][]byte{
		// The fast lane frames bodies by Content-Length only and answers
		// no interim responses: these go to net/http.
		[]byte("transfer-encoding"),
		[]byte("expect"),
		[]byte("upgrade"),
		[]byte("trailer"),
		[]byte("te"),
	}
)

// qualify reports whether the request header head (from the request line
// through the blank line that ends it, as read) may be served on the fast
// lane, and the body length its Content-Length declares. It is
// conservative: anything it does not plainly recognise is refused, and a
// refused request goes to net/http, which parses and judges it.
//
// fast decides on the request line's method and request target.
func qualify(head []byte, fast func(method, target []byte) bool) (contentLength int64, ok bool) {
	if !bytes.HasSuffix(head, crlfCRLF) {
		return 0, false
	}
	// Lines end with CRLF; a CR or LF anywhere else is a control byte the
	// checks below refuse.
	line, rest, _ := bytes.Cut(head, []byte{'\n'})
	if len(line) == 0 || line[len(line)-1] != '\r' {
		return 0, false
	}
	method, rl, ok1 := bytes.Cut(line[:len(line)-1], []byte{' '})
	target, proto, ok2 := bytes.Cut(rl, []byte{' '})
	if !ok1 || !ok2 || len(method) == 0 || len(target) == 0 || target[0] != '/' || !bytes.Equal(proto, proto11) ||
		!isToken(method) || !visible(target) || !fast(method, target) {
		return 0, false
	}
	hosts, lengths := 0, 0
	contentLength = -1
	for {
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		if len(line) == 0 || line[len(line)-1] != '\r' {
			return 0, false
		}
		line = line[:len(line)-1]
		if len(line) == 0 {
			break // the blank line: rest is empty (HasSuffix above)
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			return 0, false // also a folded line (leading space) or a space before the colon
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		if !fieldValue(value) {
			return 0, false
		}
		switch len(name) {
		case len(hdrCL): // also http2-settings, and Mcp-Session-Id
			if bytes.EqualFold(name, hdrH2Settings) {
				return 0, false
			}
			if !bytes.EqualFold(name, hdrCL) {
				break
			}
			lengths++
			if !digits(value) {
				return 0, false
			}
			contentLength = 0
			for _, c := range value {
				contentLength = contentLength*10 + int64(c-'0')
			}
		case len(hdrHost):
			if bytes.EqualFold(name, hdrHost) {
				hosts++
				if len(value) == 0 || !hostValue(value) {
					return 0, false
				}
			}
		case len(hdrConn):
			if bytes.EqualFold(name, hdrConn) && !bytes.EqualFold(value, keepAlive) {
				return 0, false // close, upgrade, or a list: net/http's
			}
		case 2, 6, 7, 17: // te, expect, upgrade and trailer, transfer-encoding (hdrRefused)
			for _, refused := range hdrRefused {
				if bytes.EqualFold(name, refused) {
					return 0, false
				}
			}
		}
	}
	if hosts != 1 || lengths > 1 || len(rest) != 0 {
		return 0, false
	}
	if lengths == 0 {
		contentLength = 0 // neither length nor coding: no body (RFC 9112 §6.3)
	}
	return contentLength, true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func digits(b []byte) bool {
	if len(b) == 0 || len(b) > 18 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// fieldValue reports whether b has no control character but HTAB (the
// test net/http's server applies to every header value).
func fieldValue(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// visible reports whether b is printable ASCII without spaces.
func visible(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

func isToken(b []byte) bool {
	for _, c := range b {
		if !tokenByte[c] {
			return false
		}
	}
	return len(b) > 0
}

func hostValue(b []byte) bool {
	for _, c := range b {
		if !hostByte[c] {
			return false
		}
	}
	return true
}

// tokenByte: RFC 9110 §5.6.2 tchar.
var tokenByte = alnumAnd("!#$%&'*+-.^_`|~")

// hostByte: the bytes net/http's server accepts in a Host header
// (httpguts.ValidHostHeader): letters, digits and the URI punctuation.
var hostByte = alnumAnd("!$%&'()*+,-.:;=[]_~")

// alnumAnd returns the set of ASCII letters and digits and the bytes of
// extra.
func alnumAnd(extra string) (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range extra {
		t[c] = true
	}
	return t
}

// writeHeaderName reports whether a handler's header name may be written
// (net/http drops the others silently too).
func writeHeaderName(k string) bool {
	for i := 0; i < len(k); i++ {
		if !tokenByte[k[i]] {
			return false
		}
	}
	return len(k) > 0
}
