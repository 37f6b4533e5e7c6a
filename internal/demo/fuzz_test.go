package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
)

// lockedBuffer is an io.Writer safe for the server's concurrent sends.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// FuzzHandleLine feeds arbitrary client lines to an initialized server (at
// the batch-capable version 2025-03-26) and checks that it never panics and
// writes only single-line JSON values.
func FuzzHandleLine(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"a\nb"}}}`,
		`{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"test_sampling","arguments":{"prompt":"p"}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"test://template/1/data"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"name":"test_prompt_with_arguments","arguments":{"arg1":"a","arg2":"b"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"x"},"argument":{"name":"a","value":""}}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
		`{"jsonrpc":"2.0","id":"demo-1","result":{}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"x"},1,[]]`,
		`[]`, `{`, `null`, `"\u2028"`, `{"jsonrpc":"2.0","id":1e99,"method":"ping"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		out := &lockedBuffer{}
		s := newServer((&Options{Logger: slog.New(slog.DiscardHandler), Exit: func(int) {},
			ClientRequestTimeout: 1, ReconnectionDelay: 1, StepDelay: 1}).withDefaults(), out)
		s.initialized, s.version = true, "2025-03-26"
		s.clientCaps = clientCapabilities{Sampling: json.RawMessage(`{}`), Elicitation: json.RawMessage(`{}`)}
		ctx, cancel := context.WithCancel(context.Background())
		s.handleLine(ctx, line)
		cancel()
		s.shutdown()
		for _, l := range bytes.SplitAfter(out.buf.Bytes(), []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			if l[len(l)-1] != '\n' || !json.Valid(l) {
				t.Fatalf("server wrote %q, want one JSON value per line", l)
			}
		}
	})
}
