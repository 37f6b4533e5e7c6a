package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// The floors are the fastest servers that still speak the protocol's
// framing: they answer every request from fixed bytes, echoing only its id
// (and at initialize the requested version). Nothing MCP-shaped can be
// faster on the same machine, so every other figure is read as a fraction
// of theirs.

// floorResult is the floors' tools/call result, the size of the demo
// server's echo result.
const floorResult = `{"content":[{"type":"text","text":"Echo: hello, gateway"}]}`

var (
	floorTools   = []byte(`{"tools":[{"name":"echo","description":"Echoes the message.","inputSchema":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}}]}`)
	floorCall    = []byte(floorResult)
	floorEmpty   = []byte(`{}`)
	floorUnknown = []byte(`{"code":-32601,"message":"Method not found"}`)

	methodInitialize = []byte(`"method":"initialize"`)
	methodToolsCall  = []byte(`"method":"tools/call"`)
	methodToolsList  = []byte(`"method":"tools/list"`)
	methodPing       = []byte(`"method":"ping"`)
	keyVersion       = []byte(`"protocolVersion":"`)
)

// floorInit is the InitializeResult for a request asking for version.
func floorInit(dst, version []byte) []byte {
	if len(version) == 0 {
		version = []byte(version20251125)
	}
	dst = append(dst, `{"protocolVersion":"`...)
	dst = append(dst, version...)
	return append(dst, `","capabilities":{"tools":{}},"serverInfo":{"name":"mcpgate-bench floor","version":"1"}}`...)
}

// requestedVersion returns the protocolVersion an initialize request asks
// for, or nil.
func requestedVersion(msg []byte) []byte {
	i := bytes.Index(msg, keyVersion)
	if i < 0 {
		return nil
	}
	rest := msg[i+len(keyVersion):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || j > 32 {
		return nil
	}
	return rest[:j]
}

// floorAnswer appends the floors' answer to msg: a response, or nothing for
// a notification or a response.
func floorAnswer(dst, msg []byte) []byte {
	id := rawID(msg)
	if id == nil || !bytes.Contains(msg, keyMethod) {
		return dst
	}
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = append(dst, id...)
	switch {
	case bytes.Contains(msg, methodToolsCall):
		dst = append(dst, `,"result":`...)
		dst = append(dst, floorCall...)
	case bytes.Contains(msg, methodInitialize):
		dst = append(dst, `,"result":`...)
		dst = floorInit(dst, requestedVersion(msg))
	case bytes.Contains(msg, methodToolsList):
		dst = append(dst, `,"result":`...)
		dst = append(dst, floorTools...)
	case bytes.Contains(msg, methodPing):
		dst = append(dst, `,"result":`...)
		dst = append(dst, floorEmpty...)
	default:
		dst = append(dst, `,"error":`...)
		dst = append(dst, floorUnknown...)
	}
	return append(dst, '}')
}

// cmdStdioFloor serves the stdio floor on stdin/stdout until stdin ends.
func cmdStdioFloor(stdin io.Reader, stdout io.Writer) int {
	if err := serveStdioFloor(stdin, stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mcpgate-bench stdio-floor:", err)
		return exitFailure
	}
	return exitOK
}

// serveStdioFloor answers newline-delimited requests, flushing whenever no
// more input is waiting, so that answers to a burst go out in one write.
func serveStdioFloor(stdin io.Reader, stdout io.Writer) error {
	r := bufio.NewReaderSize(stdin, 64<<10)
	w := bufio.NewWriterSize(stdout, 64<<10)
	var out, long []byte
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			if out = floorAnswer(out[:0], line); len(out) > 0 {
				w.Write(append(out, '\n'))
			}
		}
		if err != nil {
			w.Flush()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}

// floorSessionID is the session ID the HTTP floor gives every client.
var floorSessionID = []string{"floor"}

var (
	hdrJSON = []string{"application/json"}
	hdrSSE  = []string{"text/event-stream"}
)

var floorBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// floorHandler is the raw HTTP floor: POST answers from fixed bytes (202
// for notifications), GET holds an idle SSE stream, DELETE says 204.
func floorHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			buf := floorBufs.Get().(*bytes.Buffer)
			defer floorBufs.Put(buf)
			buf.Reset()
			if _, err := buf.ReadFrom(r.Body); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			msg := buf.Bytes()
			out := floorAnswer(msg[len(msg):], msg) // after the request, in its buffer's spare room
			if len(out) == 0 {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			h := w.Header()
			if bytes.Contains(msg, methodInitialize) {
				h["Mcp-Session-Id"] = floorSessionID
			}
			h["Content-Type"] = hdrJSON
			w.Write(out)
		case http.MethodGet:
			h := w.Header()
			h["Content-Type"] = hdrSSE
			h["Cache-Control"] = []string{"no-cache"}
			w.WriteHeader(http.StatusOK)
			http.NewResponseController(w).Flush()
			<-r.Context().Done()
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
}

// cmdHTTPFloor serves the raw HTTP floor until SIGINT or SIGTERM. Its first
// line on stdout is "listening on http://ADDR".
func cmdHTTPFloor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("http-floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "mcpgate-bench http-floor:", err)
		return exitFailure
	}
	srv := &http.Server{Handler: floorHandler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintln(stderr, "mcpgate-bench http-floor:", err)
		return exitFailure
	case <-ctx.Done():
	}
	srv.Close() // idle SSE streams would hold Shutdown forever
	<-served
	return exitOK
}
