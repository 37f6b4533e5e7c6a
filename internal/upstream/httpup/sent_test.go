package httpup

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestBodySent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name string
		body string
		do   bool // send it
		want bool
	}{
		{"not sent", `{"jsonrpc":"2.0","method":"x"}`, false, false},
		{"sent", `{"jsonrpc":"2.0","method":"x"}`, true, true},
		{"sent twice (GetBody)", `{"jsonrpc":"2.0","method":"y"}`, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			setBody(req, []byte(tt.body))
			if req.ContentLength != int64(len(tt.body)) {
				t.Errorf("ContentLength = %d, want %d", req.ContentLength, len(tt.body))
			}
			if tt.do {
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != tt.body {
					t.Errorf("server read %q, want %q", got, tt.body)
				}
				if tt.name == "sent twice (GetBody)" {
					again, _ := req.GetBody()
					if b, _ := io.ReadAll(again); string(b) != tt.body {
						t.Errorf("GetBody gave %q, want %q", b, tt.body)
					}
				}
			}
			if got := bodySent(req); got != tt.want {
				t.Errorf("bodySent = %v, want %v", got, tt.want)
			}
		})
	}
}
