package ssetransport

import (
	"net/url"
	"testing"
)

// FuzzSessionParam holds sessionParam to url.ParseQuery's reading.
func FuzzSessionParam(f *testing.F) {
	for _, seed := range []string{
		"", "sessionId=abc", "sessionId=a&sessionId=b", "x=1&sessionId=a%2Bb", "sessionId=a+b",
		"session%49d=x", "sessionId=%zz&sessionId=ok", "sessionId", "sessionId=", "a=1;sessionId=2", "&&sessionId=x&",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		id, n := sessionParam(q)
		vals, _ := url.ParseQuery(q)
		ids := vals["sessionId"]
		want := ""
		if len(ids) > 0 {
			want = ids[0]
		}
		if n != len(ids) || id != want {
			t.Fatalf("sessionParam(%q) = %q, %d; ParseQuery: %q", q, id, n, ids)
		}
	})
}
