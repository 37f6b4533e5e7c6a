package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// sseReader reads Server-Sent Events (HTML Living Standard §9.2): "field:
// value" lines, events ended by a blank line, comments starting with ":".
// It keeps its buffers between events and between bodies (reset), so a
// worker reads every response without allocating.
type sseReader struct {
	r    *bufio.Reader
	line []byte // a line longer than the reader's buffer, assembled
	name []byte // the current event's type
	data []byte // the current event's data, lines joined with '\n'
	has  bool   // the current event has a data field
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 16<<10)}
}

// reset makes s read from r, keeping its buffers.
func (s *sseReader) reset(r io.Reader) {
	s.r.Reset(r)
	s.name, s.data, s.has = s.name[:0], s.data[:0], false
}

// next returns the next event with data: its type ("" means "message") and
// its data. Both are valid until the next call. At the end of the stream it
// returns io.EOF (an event not ended by a blank line is dropped, as the
// standard says).
func (s *sseReader) next() (name, data []byte, err error) {
	for {
		line, err := s.readLine()
		if err != nil {
			return nil, nil, err
		}
		if len(line) == 0 { // end of event
			// An event whose data is empty is not dispatched (the
			// standard's "if the data buffer is an empty string").
			if s.has && len(s.data) > 0 {
				s.has = false
				name, data = s.name, s.data
				s.name, s.data = s.name[:0], s.data[:0]
				return name, data, nil
			}
			s.name, s.data, s.has = s.name[:0], s.data[:0], false
			continue
		}
		if line[0] == ':' {
			continue // comment
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if s.has {
				s.data = append(s.data, '\n')
			}
			s.data = append(s.data, value...)
			s.has = true
		case "event":
			s.name = append(s.name[:0], value...)
		}
	}
}

// readLine returns the next line without its ending (LF, CRLF or CR before
// LF; a lone CR is rare enough in practice to be left as data).
func (s *sseReader) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.line = append(s.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = s.r.ReadSlice('\n')
			s.line = append(s.line, line...)
		}
		line = s.line
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
