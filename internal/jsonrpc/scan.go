package jsonrpc

// A small validating JSON scanner for the hot path. It accepts exactly what
// encoding/json accepts (RFC 8259: no trailing commas, no leading zeros,
// control characters only as escapes, any other byte inside strings, since
// encoding/json does not check UTF-8), and nothing else; FuzzDecodeFast
// holds it to that. Callers fall back to encoding/json for anything it
// refuses, so that errors keep encoding/json's wording.

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanValue validates the JSON value starting at data[i] (no leading
// whitespace) and returns the index just after it, or -1 if it is not
// valid or nests more than depth levels of arrays and objects (which bounds
// the recursion).
func scanValue(data []byte, i, depth int) int {
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; {
	case c == '"':
		end, _ := scanString(data, i)
		return end
	case c == '{':
		return scanObject(data, i, depth, nil)
	case c == '[':
		return scanArray(data, i, depth)
	case c == 't':
		return scanLiteral(data, i, "true")
	case c == 'f':
		return scanLiteral(data, i, "false")
	case c == 'n':
		return scanLiteral(data, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(data, i)
	}
	return -1
}

func scanLiteral(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// special marks the bytes that end a run of plain string content.
var special = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// scanString validates the string starting at data[i] (a quote) and returns
// the index after its closing quote, and whether it holds an escape.
func scanString(data []byte, i int) (end int, escaped bool) {
	i++
	for i < len(data) {
		for i < len(data) && !special[data[i]] {
			i++
		}
		if i >= len(data) {
			break
		}
		c := data[i]
		switch {
		case c == '"':
			return i + 1, escaped
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				return -1, escaped
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(data)-i < 6 || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
					return -1, escaped
				}
				i += 6
			default:
				return -1, escaped
			}
		case c < 0x20:
			return -1, escaped
		default:
			i++
		}
	}
	return -1, escaped
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber validates -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) int {
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return -1
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return -1
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	return i
}

func scanArray(data []byte, i, depth int) int {
	if depth <= 0 {
		return -1
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1
	}
	for {
		if i = scanValue(data, i, depth-1); i < 0 {
			return -1
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return -1
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// member is one member of a scanned object: the offsets of its key (quotes
// included) and of its value.
type member struct {
	keyStart, keyEnd int
	valStart, valEnd int
	keyEscaped       bool
}

// scanObject validates the object starting at data[i], at most depth
// levels deep, and returns the index after it. If members is not nil, each
// member is reported to it; it returns false to stop with failure.
func scanObject(data []byte, i, depth int, members func(member) bool) int {
	if depth <= 0 {
		return -1
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return -1
		}
		var m member
		m.keyStart = i
		if i, m.keyEscaped = scanString(data, i); i < 0 {
			return -1
		}
		m.keyEnd = i
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != ':' {
			return -1
		}
		m.valStart = skipSpace(data, i+1)
		if i = scanValue(data, m.valStart, depth-1); i < 0 {
			return -1
		}
		m.valEnd = i
		if members != nil && !members(m) {
			return -1
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return -1
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// foldEqual reports whether the ASCII strings a and b are equal ignoring
// case.
func foldEqual(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Member is one member of a JSON object, as Members reports it.
type Member struct {
	// Key is the member's name as written, without its quotes.
	Key []byte
	// KeyEscaped reports that Key holds escapes: it is not the name itself.
	KeyEscaped bool
	// Value is the member's raw value.
	Value []byte
	// Start and End are the offsets of Value in the object.
	Start, End int
}

// Members calls fn for each member of the JSON object obj, in order, until
// fn returns false. It reports whether obj is a valid JSON object (no
// deeper than MaxDepth) that fn accepted throughout. It lets the gateway
// read or replace a few fields of raw params without decoding the rest.
func Members(obj []byte, fn func(Member) bool) bool {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false
	}
	end := scanObject(obj, i, MaxDepth, func(m member) bool {
		return fn(Member{
			Key:        obj[m.keyStart+1 : m.keyEnd-1],
			KeyEscaped: m.keyEscaped,
			Value:      obj[m.valStart:m.valEnd],
			Start:      m.valStart,
			End:        m.valEnd,
		})
	})
	return end >= 0 && skipSpace(obj, end) == len(obj)
}

// PlainString returns the contents of raw, a JSON string, when they need
// no decoding: no escapes and only ASCII. ok is false otherwise (escapes,
// non-ASCII, not a string), when encoding/json is needed to decode it.
func PlainString(raw []byte) (s []byte, ok bool) { return plainString(raw) }

// FoldEqual reports whether the ASCII name equals field ignoring ASCII case,
// as encoding/json matches object keys to struct fields.
func FoldEqual(name []byte, field string) bool { return foldEqual(name, field) }
