package remote

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

type got struct {
	ID    string
	HasID bool
	Name  string
	Data  string
	Retry time.Duration
}

func readAll(t *testing.T, in string, max int) ([]got, error) {
	t.Helper()
	r := NewEventReader(strings.NewReader(in), max)
	var out []got
	for {
		ev, err := r.Next()
		if err != nil {
			if ev.HasID || ev.Retry > 0 {
				out = append(out, got{ID: string(ev.ID), HasID: ev.HasID, Retry: ev.Retry})
			}
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, got{string(ev.ID), ev.HasID, ev.Name, string(ev.Data), ev.Retry})
	}
}

func TestEventReader(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     []got
		wantErr  error
	}{
		{"one message", "data: {\"a\":1}\n\n", 100, []got{{Data: `{"a":1}`}}, nil},
		{"crlf, id, name, retry", "id: 7\r\nevent: endpoint\r\nretry: 1500\r\ndata: /m?s=1\r\n\r\n", 100,
			[]got{{ID: "7", HasID: true, Name: "endpoint", Data: "/m?s=1", Retry: 1500 * time.Millisecond}}, nil},
		{"priming event: id and empty data", "id: s-0\ndata: \n\n", 100, []got{{ID: "s-0", HasID: true}}, nil},
		{"comments and multi-line data", ": hb\n\ndata: a\ndata: b\n\n", 100, []got{{Data: "a\nb"}}, nil},
		{"id without data reported with the next", "id: 1\n\ndata: x\n\n", 100, []got{{ID: "1", HasID: true, Data: "x"}}, nil},
		{"id at the end of the stream", "data: x\n\nid: 9\nretry: 10\n\n", 100,
			[]got{{Data: "x"}, {ID: "9", HasID: true, Retry: 10 * time.Millisecond}}, nil},
		{"leading BOM", "\uFEFFdata: x\n\n", 100, []got{{Data: "x"}}, nil},
		{"bad retry ignored", "retry: soon\ndata: x\n\n", 100, []got{{Data: "x"}}, nil},
		{"unterminated event dropped", "data: x", 100, nil, io.ErrUnexpectedEOF},
		{"event too large", "data: " + strings.Repeat("x", 200) + "\n\n", 100, nil, ErrEventTooLarge},
		{"line too large", strings.Repeat("y", 40000) + "\n", 1000, nil, ErrEventTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := readAll(t, tt.in, tt.max)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, out); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzEventReader: whatever the stream, the reader neither panics nor
// returns more than its limit, and every event it dispatches with data is
// one the test reader (which follows the HTML standard) sees too.
func FuzzEventReader(f *testing.F) {
	for _, s := range []string{"data: x\n\n", "id: 1\nevent: e\nretry: 5\ndata: a\ndata: b\n\n", ": c\n\n", "\uFEFFdata:\r\n\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.Contains(in, "\r") && !strings.Contains(in, "\r\n") {
			return // lone CR line ends are not supported (documented)
		}
		r := NewEventReader(strings.NewReader(in), 256)
		ref := ssetest.NewReader(strings.NewReader(in))
		for {
			ev, err := r.Next()
			if err != nil {
				return
			}
			if len(ev.Data) > 256 {
				t.Fatalf("event of %d bytes over the limit", len(ev.Data))
			}
			if strings.Contains(in, "\r") {
				continue
			}
			var fr ssetest.Frame
			for {
				if fr, err = ref.Next(); err != nil {
					t.Fatalf("reference reader ended (%v) before event %q", err, ev.Data)
				}
				if fr.HasData {
					break
				}
			}
			if fr.Data != string(ev.Data) {
				t.Fatalf("data %q, reference %q", ev.Data, fr.Data)
			}
		}
	})
}

func TestAppendMessage(t *testing.T) {
	tests := []struct {
		name   string
		id     int64
		method string
		params string
		want   string
	}{
		{"request", 7, "tools/call", `{"name":"x"}`, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`},
		{"notification without params", 0, "notifications/initialized", "", `{"jsonrpc":"2.0","method":"notifications/initialized"}`},
		{"multi-line params compacted", 1, "m", "{\n \"a\": 1\n}", `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendMessage(nil, tt.id, tt.method, []byte(tt.params))); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFallbackVersion(t *testing.T) {
	tests := []struct {
		name, data, asked, want string
	}{
		{"newest common", `{"supported":["2025-03-26","2025-06-18","1999-01-01"]}`, "2025-11-25", "2025-06-18"},
		{"nothing common", `{"supported":["1999-01-01"]}`, "2025-11-25", ""},
		{"no data", ``, "2025-11-25", ""},
		{"only the asked one", `{"supported":["2025-11-25"]}`, "2025-11-25", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := jsonrpc.NewError(-32602, "unsupported")
			e.Data = []byte(tt.data)
			if got := fallbackVersion(e, tt.asked); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
