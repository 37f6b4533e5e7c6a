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
	// One pass: members are copied to out only once the first one to drop
	// is met (those before it too); a name written with escapes aborts.
	escaped, n := false, 0
	var keptBuf [8][2]int
	kept := keptBuf[:0] // members kept, as obj[start:end], until out exists
	end := scanObject(obj, i, MaxDepth, func(m member) bool {
		if m.keyEscaped {
			escaped = true
			return false
		}
		if string(obj[m.keyStart+1:m.keyEnd-1]) == key {
			if n == 0 {
				out = make([]byte, 0, len(obj))
				out = append(out, '{')
				for j, k := range kept {
					if j > 0 {
						out = append(out, ',')
					}
					out = append(out, obj[k[0]:k[1]]...)
				}
			}
			n++
			return true
		}
		if n == 0 {
			kept = append(kept, [2]int{m.keyStart, m.valEnd})
			return true
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, obj[m.keyStart:m.valEnd]...)
		return true
	})
	switch {
	case escaped || end < 0 || skipSpace(obj, end) != len(obj):
		return obj, false, false
	case n == 0:
		return obj, false, true
	}
	return append(out, '}'), true, true
}
