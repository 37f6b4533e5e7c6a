package mcpsessiontest

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// JSONDiff compares JSON texts by value, in order, and returns cmp's diff
// (-want +got); a text that is not JSON fails the test.
func JSONDiff(tb testing.TB, want, got []string) string {
	tb.Helper()
	parse := func(ss []string) []any {
		var out []any
		for _, s := range ss {
			var v any
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				tb.Fatalf("not JSON: %q: %v", s, err)
			}
			out = append(out, v)
		}
		return out
	}
	return cmp.Diff(parse(want), parse(got))
}

// WantJSON fails the test unless got and want are the same JSON value.
func WantJSON(tb testing.TB, what, got, want string) {
	tb.Helper()
	if diff := JSONDiff(tb, []string{want}, []string{got}); diff != "" {
		tb.Fatalf("%s (-want +got):\n%s", what, diff)
	}
}

// InitializeBody is an initialize request (id 0) for version v from a
// client named client that offers sampling.
func InitializeBody(v, client string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{"sampling":{}},"clientInfo":{"name":%q,"version":"1"}}}`, v, client)
}
