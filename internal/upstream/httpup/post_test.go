package httpup

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
)

// TestPostTemplate holds the template's contract: every change of the
// session's id, version or era shows in the next POST, and a POST (a
// modern one's extra headers included) never writes to a template that
// requests in flight share.
func TestPostTemplate(t *testing.T) {
	e := remote.Endpoint{Conn: remote.Options{Name: "t"}, URL: "http://127.0.0.1:1/mcp", Header: http.Header{"X-Key": {"k"}}}
	p, err := e.Prepare(Transport, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(&client{url: p.URL.String(), p: p}, nil)
	defer s.stop()
	post := func(modern bool) *http.Request {
		t.Helper()
		st, err := s.postState(func() {})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := postRequest(context.Background(), st.tmpl, []byte(`{}`), modern)
		if modern {
			setModernHeaders(context.Background(), req.Header, remote.Outgoing{Method: "tools/call", Body: []byte(`{"params":{"name":"echo"}}`)})
		}
		return req
	}
	want := http.Header{"X-Key": {"k"}, "Accept": acceptPost, "Content-Type": contentJSON}
	steps := []struct {
		name   string
		change func()
		modern bool
	}{
		{name: "fresh"},
		{name: "session id", change: func() {
			s.mu.Lock()
			s.id = []string{"sid"}
			s.post = nil
			s.mu.Unlock()
			want[mcp.HeaderSessionID] = []string{"sid"}
		}},
		{name: "negotiated", change: func() {
			s.Negotiated("2025-11-25")
			want[mcp.HeaderProtocolVersion] = []string{"2025-11-25"}
		}},
		{name: "modern", modern: true, change: func() {
			s.Modern("2026-07-28")
			want[mcp.HeaderProtocolVersion] = []string{"2026-07-28"}
		}},
		{name: "back to the session era", change: func() {
			s.Modern("")
			delete(want, mcp.HeaderProtocolVersion)
		}},
	}
	for _, st := range steps {
		if st.change != nil {
			st.change()
		}
		before, _ := s.postState(func() {})
		req := post(st.modern)
		if st.modern {
			if req.Header.Get(mcp.HeaderMethod) != "tools/call" {
				t.Errorf("%s: Mcp-Method = %q, want tools/call", st.name, req.Header.Get(mcp.HeaderMethod))
			}
			if _, ok := before.tmpl.Header[mcp.HeaderMethod]; ok {
				t.Errorf("%s: a modern POST wrote its headers into the shared template", st.name)
			}
			delete(req.Header, mcp.HeaderMethod)
			delete(req.Header, mcp.HeaderName)
		}
		if diff := cmp.Diff(want, req.Header); diff != "" {
			t.Errorf("%s: POST headers (-want +got):\n%s", st.name, diff)
		}
		if req.Method != http.MethodPost || req.URL.String() != e.URL || req.ContentLength != 2 {
			t.Errorf("%s: %s %s length %d, want POST %s length 2", st.name, req.Method, req.URL, req.ContentLength, e.URL)
		}
	}
}
