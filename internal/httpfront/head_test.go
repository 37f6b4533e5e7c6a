package httpfront

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func acceptAll(method, target []byte) bool { return true }

// FuzzQualify: whatever qualify lets onto the fast lane, net/http's parser
// reads as the same plain request: a Content-Length body of the length
// qualify found, HTTP/1.1 kept alive, one Host, no transfer coding, and
// header values net/http's server would accept.
func FuzzQualify(f *testing.F) {
	for _, seed := range []string{
		"POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n",
		"POST /mcp?sessionId=abc HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: x\r\nContent-Length: 120\r\nConnection: keep-alive\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nhost: gw\r\ncontent-length:  7 \r\nX-A:\t\tv\t\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 0\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: gw\r\nX: \xff\xfe\r\nContent-Length: 0\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		length, ok := qualify(head, acceptAll)
		if !ok {
			return
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
		if err != nil {
			// The one refusal left to the parser: a request target that is
			// no URI (a bad escape); the fast lane answers 400 then.
			line, _, _ := strings.Cut(string(head), " HTTP/1.1\r\n")
			_, target, _ := strings.Cut(line, " ")
			if _, uerr := url.ParseRequestURI(target); uerr == nil {
				t.Fatalf("qualified %q, net/http: %v", head, err)
			}
			return
		}
		if req.ContentLength != length || req.ProtoMajor != 1 || req.ProtoMinor != 1 || req.Close ||
			len(req.TransferEncoding) != 0 || req.Host == "" {
			t.Fatalf("qualified %q: length %d want %d, proto %s, close %v, TE %v, Host %q",
				head, req.ContentLength, length, req.Proto, req.Close, req.TransferEncoding, req.Host)
		}
		for k, vs := range req.Header {
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
					t.Fatalf("qualified %q: header %s has %q", head, k, v)
				}
			}
		}
		for _, refused := range []string{"Expect", "Upgrade", "Trailer", "Te", "Http2-Settings"} {
			if _, ok := req.Header[refused]; ok {
				t.Fatalf("qualified %q with %s", head, refused)
			}
		}
	})
}

func BenchmarkQualify(b *testing.B) {
	head := []byte("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: 0123456789abcdef0123456789abcdef\r\nMcp-Protocol-Version: 2025-11-25\r\nContent-Length: 120\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := qualify(head, fastMCP); !ok {
			b.Fatal("not qualified")
		}
	}
}
