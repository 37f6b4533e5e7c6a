package ssetransport

import (
	"net/url"
	"strings"
)

// sessionParam returns the first sessionId parameter of the query and how
// many there are, as url.ParseQuery would read them, without building the
// map of every parameter that url.URL.Query allocates on every POST.
// Parameters that fail to decode are skipped, as ParseQuery skips them.
func sessionParam(query string) (id string, n int) {
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		if strings.Contains(kv, ";") {
			continue // ParseQuery refuses it
		}
		k, v, _ := strings.Cut(kv, "=")
		if k != "sessionId" {
			if !strings.ContainsAny(k, "%+") {
				continue
			}
			var err error
			if k, err = url.QueryUnescape(k); err != nil || k != "sessionId" {
				continue
			}
		}
		if strings.ContainsAny(v, "%+") {
			var err error
			if v, err = url.QueryUnescape(v); err != nil {
				continue
			}
		}
		if n == 0 {
			id = v
		}
		n++
	}
	return id, n
}
