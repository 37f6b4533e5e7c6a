package jsonrpc

// Lookup returns the raw value of the top-level member key of the JSON
// object obj (its name compared as written, without unescaping); found is
// false when obj lacks it or is not an object.
func Lookup(obj []byte, key string) (val []byte, found bool) {
	Members(obj, func(m Member) bool {
		if !m.KeyEscaped && string(m.Key) == key {
			val, found = m.Value, true
			return false
		}
		return true
	})
	return val, found
}
