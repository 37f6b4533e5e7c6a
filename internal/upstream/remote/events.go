package remote

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"
)

// ErrEventTooLarge is returned by EventReader.Next for an event (or line)
// longer than the reader's limit.
var ErrEventTooLarge = errors.New("sse event too large")

// Event is one dispatched Server-Sent Event (HTML Living Standard §9.2.6).
// Its byte slices are valid until the next call of Next.
type Event struct {
	// ID is the event's id field, when it had one (HasID).
	ID    []byte
	HasID bool
	// Name is the event type; empty means "message".
	Name string
	// Data is the event's data lines joined with "\n".
	Data []byte
	// Retry is the reconnection time the event set, or 0.
	Retry time.Duration
}

// EventReader reads the events of one SSE stream, bounding each one, and
// reusing its buffers from event to event. Lines end with LF or CRLF (a
// lone CR, which no MCP server sends, is not a line end here).
type EventReader struct {
	br   *bufio.Reader
	max  int
	line []byte // a line longer than the bufio buffer, assembled
	data []byte
	id   []byte
	name []byte
	bom  bool // the first line was seen (a leading BOM is dropped)
}

// readerPool recycles EventReaders and their buffers: a Streamable HTTP
// call answered with SSE reads one short stream, and its reader need not
// cost a fresh 4 KiB buffer.
var readerPool = sync.Pool{New: func() any { return &EventReader{br: bufio.NewReaderSize(nil, 4<<10)} }}

// maxPooledEvent keeps readers that grew large buffers out of the pool.
const maxPooledEvent = 64 << 10

// NewEventReader returns a reader of r that refuses events larger than max
// bytes. Release returns it for reuse once the stream is done.
func NewEventReader(r io.Reader, max int) *EventReader {
	er := readerPool.Get().(*EventReader)
	er.br.Reset(r)
	er.max, er.bom = max, false
	return er
}

// Release returns the reader (and its buffers) for reuse; it must not be
// used afterwards, nor any Event it returned.
func (r *EventReader) Release() {
	r.br.Reset(nil)
	if cap(r.data) > maxPooledEvent || cap(r.line) > maxPooledEvent {
		return
	}
	readerPool.Put(r)
}

// readLine returns the next line without its end; the slice is valid until
// the next readLine.
func (r *EventReader) readLine() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.line = append(r.line[:0], b...)
		for err == bufio.ErrBufferFull {
			if len(r.line) > r.max {
				return nil, ErrEventTooLarge
			}
			b, err = r.br.ReadSlice('\n')
			r.line = append(r.line, b...)
		}
		b = r.line
	}
	if err != nil {
		if err == io.EOF && len(b) > 0 {
			err = io.ErrUnexpectedEOF // an unterminated last line is discarded
		}
		return nil, err
	}
	b = b[:len(b)-1]
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if !r.bom {
		r.bom = true
		b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	}
	return b, nil
}

// Next returns the next event that has data, skipping comments
// (heartbeats) and blocks without data, though their id and retry fields
// are reported with the next event (the stream's last event id is what a
// reconnection sends). It returns io.EOF at the end of the stream.
func (r *EventReader) Next() (Event, error) {
	var ev Event
	r.data, r.id, r.name = r.data[:0], r.id[:0], r.name[:0]
	hasData := false
	for {
		line, err := r.readLine()
		if err != nil {
			if ev.HasID || ev.Retry > 0 {
				// Report the last id even though the stream ended.
				ev.ID, ev.Name, ev.Data = r.id, "", nil
				return ev, err
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if !hasData {
				r.name = r.name[:0]
				continue // a block without data dispatches nothing
			}
			ev.ID, ev.Name = r.id, string(r.name)
			ev.Data = r.data[:len(r.data)-1] // the last "\n"
			return ev, nil
		}
		name, value, found := bytes.Cut(line, []byte{':'})
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(name) {
		case "":
			// a comment
		case "data":
			if len(r.data)+len(value)+1 > r.max {
				return Event{}, ErrEventTooLarge
			}
			hasData = true
			r.data = append(append(r.data, value...), '\n')
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				r.id = append(r.id[:0], value...)
				ev.HasID = true
			}
		case "event":
			r.name = append(r.name[:0], value...)
		case "retry":
			if ms, err := strconv.ParseUint(string(value), 10, 31); err == nil {
				ev.Retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}
