package eventlog

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
)

// MaxStreamIDLen is the longest stream ID accepted.
const MaxStreamIDLen = 64

// MaxEventIDLen is the longest event ID ParseEventID accepts: a stream ID, a
// dot and a 20-digit sequence.
const MaxEventIDLen = MaxStreamIDLen + 1 + 20

// ErrBadEventID is returned by ParseEventID for anything it did not format.
var ErrBadEventID = errors.New("malformed event ID")

// ValidStreamID reports whether id can name a stream: 1 to MaxStreamIDLen
// characters from [A-Za-z0-9_-]. These are visible ASCII with no SSE or
// header meaning, so event IDs built from them are safe in an SSE id field
// and in a Last-Event-ID header.
func ValidStreamID(id string) bool {
	if len(id) == 0 || len(id) > MaxStreamIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !streamIDByte(id[i]) {
			return false
		}
	}
	return true
}

func streamIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// NewStreamID returns a random stream ID (96 bits, 16 characters), so that
// stream IDs, and with them event IDs, never repeat within a session, even
// when several replicas create streams for it.
func NewStreamID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// FormatEventID returns the event ID of event seq of stream streamID:
// "<streamID>.<seq>". Sequence 0 names the position before the first event
// (the priming event of [T §Sending Messages] 6 uses it).
func FormatEventID(streamID string, seq uint64) string {
	return string(AppendEventID(make([]byte, 0, len(streamID)+21), streamID, seq))
}

// AppendEventID appends the event ID of (streamID, seq) to dst.
func AppendEventID(dst []byte, streamID string, seq uint64) []byte {
	dst = append(dst, streamID...)
	dst = append(dst, '.')
	return strconv.AppendUint(dst, seq, 10)
}

// ParseEventID splits an event ID made by FormatEventID. It is strict, as
// Last-Event-ID is client input: it accepts exactly the strings
// FormatEventID produces for a valid stream ID (no sign, no leading zeros,
// no spaces, no overflow) and returns ErrBadEventID for anything else.
func ParseEventID(id string) (streamID string, seq uint64, err error) {
	if len(id) < 3 || len(id) > MaxEventIDLen {
		return "", 0, ErrBadEventID
	}
	dot := -1
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '.' {
			dot = i
			break
		}
	}
	if dot <= 0 || dot == len(id)-1 {
		return "", 0, ErrBadEventID
	}
	streamID, digits := id[:dot], id[dot+1:]
	if !ValidStreamID(streamID) {
		return "", 0, ErrBadEventID
	}
	if len(digits) > 1 && digits[0] == '0' {
		return "", 0, ErrBadEventID
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", 0, ErrBadEventID
		}
	}
	seq, perr := strconv.ParseUint(digits, 10, 64)
	if perr != nil {
		return "", 0, ErrBadEventID
	}
	return streamID, seq, nil
}
