package remote

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestAppendBody(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		length  int64 // -1: unknown (chunked)
		dst     string
		max     int64
		want    string
		wantErr string
	}{
		{name: "declared length", body: "hello", length: 5, max: 5, want: "hello"},
		{name: "declared length after dst", body: "hello", length: 5, dst: "ab", max: 5, want: "abhello"},
		{name: "declared length over max", body: "hello", length: 5, max: 4, wantErr: "larger than 4 bytes"},
		{name: "declared length, body short", body: "hel", length: 5, max: 10, wantErr: "reading the response"},
		{name: "unknown length", body: strings.Repeat("x", 3000), length: -1, max: 3000, want: strings.Repeat("x", 3000)},
		{name: "unknown length after dst", body: "hello", length: -1, dst: "ab", max: 5, want: "abhello"},
		{name: "unknown length over max", body: strings.Repeat("x", 3001), length: -1, max: 3000, wantErr: "larger than 3000 bytes"},
		{name: "empty", body: "", length: -1, max: 1, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// iotest-like: a reader that hands out a few bytes at a time.
			resp := &http.Response{ContentLength: tt.length, Body: io.NopCloser(&trickle{r: strings.NewReader(tt.body)})}
			got, err := AppendBody([]byte(tt.dst), resp, tt.max)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("AppendBody error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("AppendBody: %v", err)
			}
			if !bytes.Equal(got, []byte(tt.want)) {
				t.Errorf("AppendBody = %q, want %q", got, tt.want)
			}
		})
	}
}

// trickle returns at most 700 bytes per Read.
type trickle struct{ r io.Reader }

func (t *trickle) Read(p []byte) (int, error) { return t.r.Read(p[:min(len(p), 700)]) }

func TestDirect(t *testing.T) {
	tr := NewTransport()
	lean := NewRoundTripper()
	tests := []struct {
		name string
		c    *http.Client
		want http.RoundTripper
	}{
		{name: "NewClient", c: NewClient(tr), want: tr},
		{name: "NewClient over the lean transport", c: NewClient(lean), want: lean},
		{name: "NewClient over another RoundTripper", c: NewClient(rtFunc(nil)), want: nil},
		{name: "follows redirects", c: &http.Client{Transport: tr}, want: nil},
		{name: "timeout", c: &http.Client{Transport: tr, CheckRedirect: noRedirect, Timeout: 1}, want: nil},
		{name: "another CheckRedirect", c: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Direct(tt.c)
			if (got == nil) != (tt.want == nil) || (got != nil && http.RoundTripper(got) != tt.want) {
				t.Errorf("Direct = %v, want %v", got, tt.want)
			}
		})
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
