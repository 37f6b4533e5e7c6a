// Package ssetest is a Server-Sent Events client for tests: a reader that
// interprets a stream as a conforming client does (HTML Living Standard
// §9.2.6) and reports what a browser would hide, such as comments and
// events with empty data.
package ssetest

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// Frame is one blank-line-terminated block of an SSE stream. Unlike a
// browser the reader also reports blocks with empty data (priming events)
// and comment-only blocks (heartbeats).
type Frame struct {
	ID       string
	HasID    bool
	Event    string
	Data     string
	HasData  bool
	Retry    string
	Comments []string
}

// Reader reads frames.
type Reader struct {
	br      *bufio.Reader
	started bool
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReader(r)} }

// maxLine bounds one line, so that a hostile stream cannot grow a frame
// without limit.
const maxLine = 1 << 20

// readLine reads one line ended by CRLF, LF or CR.
func (r *Reader) readLine() (string, error) {
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
		if len(b) > maxLine {
			return "", errors.New("sse line too long")
		}
	}
}

// Next returns the next frame, or io.EOF at the end of the stream.
func (r *Reader) Next() (Frame, error) {
	var f Frame
	var data strings.Builder
	empty := true
	for {
		line, err := r.readLine()
		if err != nil {
			return Frame{}, err
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

// IsHeartbeat reports whether f is a comment-only block.
func (f Frame) IsHeartbeat() bool {
	return len(f.Comments) > 0 && !f.HasData && !f.HasID && f.Event == ""
}
