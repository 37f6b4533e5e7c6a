package streamable

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sseFrame is one blank-line-terminated block of an SSE stream, as a
// conforming reader (HTML Living Standard §9.2.6) interprets it. Unlike a
// browser it also reports blocks with empty data (priming events) and
// comment-only blocks (heartbeats).
type sseFrame struct {
	ID       string
	HasID    bool
	Event    string
	Data     string
	HasData  bool
	Retry    string
	Comments []string
}

// sseReader reads frames. It is the test suite's SSE client.
type sseReader struct {
	br      *bufio.Reader
	started bool
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{br: bufio.NewReader(r)} }

// readLine reads one line ended by CRLF, LF or CR.
func (r *sseReader) readLine() (string, error) {
	var b []byte
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF // an unterminated last line is discarded
			}
			return "", err
		}
		switch c {
		case '\n':
			return string(b), nil
		case '\r':
			if next, err := r.br.Peek(1); err == nil && next[0] == '\n' {
				r.br.ReadByte()
			}
			return string(b), nil
		}
		b = append(b, c)
		if len(b) > 1<<20 {
			return "", errors.New("sse line too long")
		}
	}
}

// next returns the next frame, io.EOF at the end of the stream.
func (r *sseReader) next() (sseFrame, error) {
	var f sseFrame
	var data strings.Builder
	empty := true
	for {
		line, err := r.readLine()
		if err != nil {
			return sseFrame{}, err
		}
		if !r.started {
			r.started = true
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" {
			if empty {
				continue
			}
			if f.HasData {
				f.Data = strings.TrimSuffix(data.String(), "\n")
			}
			return f, nil
		}
		empty = false
		name, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch name {
		case "":
			f.Comments = append(f.Comments, value)
		case "data":
			f.HasData = true
			data.WriteString(value)
			data.WriteByte('\n')
		case "id":
			if !strings.Contains(value, "\x00") {
				f.ID, f.HasID = value, true
			}
		case "event":
			f.Event = value
		case "retry":
			if value != "" && strings.Trim(value, "0123456789") == "" {
				f.Retry = value
			}
		}
	}
}

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		name  string
		id    string
		event string
		retry time.Duration
		data  string
		want  string
	}{
		{"message", "s.1", "message", 0, `{"a":1}`, "id: s.1\nevent: message\ndata: {\"a\":1}\n\n"},
		{"priming", "s.0", "", 1500 * time.Millisecond, "", "id: s.0\nretry: 1500\ndata: \n\n"},
		{"newlines", "", "message", 0, "a\nb\r\nc\rd", "event: message\ndata: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"trailing newline", "", "", 0, "a\n", "data: a\ndata: \n\n"},
		{"hostile id", "s\n.1\r\x00", "mes\nsage", 0, "x", "id: s.1\nevent: message\ndata: x\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(appendEvent(nil, []byte(tt.id), tt.event, tt.retry, []byte(tt.data)))
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got, want := string(appendComment(nil, "ping")), ": ping\n\n"; got != want {
		t.Errorf("comment: got %q, want %q", got, want)
	}
}

// normalizeNewlines is what SSE preserves of data: every line end is LF.
func normalizeNewlines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// FuzzSSERoundTrip writes a comment, a message event and a priming event
// and checks that a conforming reader gets them back.
func FuzzSSERoundTrip(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`), "ping", uint16(1000))
	f.Add([]byte("a\r\nb\rc\n\nd"), ": x", uint16(0))
	f.Add([]byte(""), "", uint16(1))
	f.Add([]byte("data: fake\n\nid: 9\n"), "\n\n", uint16(7))
	f.Add([]byte("\xef\xbb\xbf x"), "\r", uint16(65535))
	f.Fuzz(func(t *testing.T, data []byte, comment string, retryMS uint16) {
		var b []byte
		b = appendComment(b, comment)
		b = appendEvent(b, []byte("st.7"), "message", 0, data)
		retry := time.Duration(retryMS) * time.Millisecond
		b = appendEvent(b, []byte("st.0"), "", retry, nil)

		r := newSSEReader(bytes.NewReader(b))
		c, err := r.next()
		if err != nil {
			t.Fatalf("comment frame: %v (stream %q)", err, b)
		}
		var keep []byte // the writer drops CR, LF and NUL from a comment
		for _, ch := range []byte(comment) {
			if ch != '\n' && ch != '\r' && ch != 0 {
				keep = append(keep, ch)
			}
		}
		wantComment := string(keep)
		if len(c.Comments) != 1 || c.Comments[0] != wantComment || c.HasData || c.HasID {
			t.Fatalf("comment frame: got %+v, want comment %q", c, wantComment)
		}
		m, err := r.next()
		if err != nil {
			t.Fatalf("message frame: %v (stream %q)", err, b)
		}
		if want := normalizeNewlines(string(data)); m.Data != want || !m.HasData || m.ID != "st.7" || m.Event != "message" {
			t.Fatalf("message frame: got %+v, want data %q (stream %q)", m, want, b)
		}
		p, err := r.next()
		if err != nil {
			t.Fatalf("priming frame: %v", err)
		}
		wantRetry := ""
		if retryMS > 0 {
			wantRetry = strconv.Itoa(int(retryMS))
		}
		if p.ID != "st.0" || !p.HasData || p.Data != "" || p.Retry != wantRetry {
			t.Fatalf("priming frame: got %+v, want id st.0, empty data, retry %q", p, wantRetry)
		}
		if _, err := r.next(); err != io.EOF {
			t.Fatalf("after the last frame: got %v, want EOF", err)
		}
	})
}

// FuzzSSEReader feeds arbitrary bytes to the test reader: it must not
// panic or loop.
func FuzzSSEReader(f *testing.F) {
	f.Add([]byte("id: 1\ndata: x\n\n: c\n\n"))
	f.Add([]byte("\r\r\n\ndata\ndata:\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := newSSEReader(bytes.NewReader(in))
		for range len(in) + 1 {
			if _, err := r.next(); err != nil {
				return
			}
		}
		t.Fatalf("more frames than bytes in %q", in)
	})
}
