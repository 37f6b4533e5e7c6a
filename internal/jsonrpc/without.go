package jsonrpc

// WithoutMember returns the JSON object obj without its top-level members
// named key, and whether it removed any. The members kept are copied
// byte for byte (values are not re-encoded); only the whitespace between
// members is not kept. ok is false when obj is not a valid JSON object or
// has a member whose name is written with escapes (it might spell key):
// the caller must then decode obj to be sure. obj itself is never changed.
func WithoutMember(obj []byte, key string) (out []byte, removed, ok bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return obj, false, false
	}
	// First pass: find the members to drop without allocating.
	escaped := false
	n := 0
	end := scanObject(obj, i, MaxDepth, func(m member) bool {
		escaped = escaped || m.keyEscaped
		if string(obj[m.keyStart+1:m.keyEnd-1]) == key {
			n++
		}
		return true
	})
	switch {
	case end < 0 || skipSpace(obj, end) != len(obj) || escaped:
		return obj, false, false
	case n == 0:
		return obj, false, true
	}
	out = make([]byte, 0, len(obj))
	out = append(out, '{')
	first := true
	scanObject(obj, i, MaxDepth, func(m member) bool {
		if string(obj[m.keyStart+1:m.keyEnd-1]) == key {
			return true
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, obj[m.keyStart:m.valEnd]...)
		return true
	})
	return append(out, '}'), true, true
}

// ReplaceMember returns obj with the value of its one top-level member named
// key replaced by value (raw JSON, copied as is), and whether it did. ok is
// false — obj unchanged — when obj is not a valid object, has no such
// member or more than one, or has a member name written with escapes.
func ReplaceMember(obj []byte, key string, value []byte) (out []byte, ok bool) {
	start, end, n, escaped := -1, -1, 0, false
	if !Members(obj, func(m Member) bool {
		escaped = escaped || m.KeyEscaped
		if string(m.Key) == key {
			n++
			start, end = m.Start, m.End
		}
		return true
	}) || escaped || n != 1 {
		return obj, false
	}
	out = make([]byte, 0, len(obj)-(end-start)+len(value))
	out = append(out, obj[:start]...)
	out = append(out, value...)
	return append(out, obj[end:]...), true
}
