package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSSEReader(t *testing.T) {
	type ev struct{ Name, Data string }
	tests := []struct {
		name    string
		in      string
		want    []ev
		wantErr error
	}{
		{"one event", "id: 1\nevent: message\ndata: {\"a\":1}\n\n", []ev{{"message", `{"a":1}`}}, io.EOF},
		{"crlf and multi-line data", "data: a\r\ndata: b\r\n\r\n", []ev{{"", "a\nb"}}, io.EOF},
		{"comments and priming event skipped", ": ping\n\nid: s.0\nretry: 1000\ndata: \n\n", nil, io.EOF},
		{"no space after colon", "data:x\n\n", []ev{{"", "x"}}, io.EOF},
		{"endpoint then messages", "event: endpoint\ndata: /messages?sessionId=1\n\nevent: message\ndata: {}\n\n",
			[]ev{{"endpoint", "/messages?sessionId=1"}, {"message", "{}"}}, io.EOF},
		{"event type does not leak", "event: a\ndata: 1\n\ndata: 2\n\n", []ev{{"a", "1"}, {"", "2"}}, io.EOF},
		{"unterminated event dropped", "data: x\n", nil, io.EOF},
		{"cut line", "data: x", nil, io.ErrUnexpectedEOF},
		{"long line", "data: " + strings.Repeat("x", 40000) + "\n\n", []ev{{"", strings.Repeat("x", 40000)}}, io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newSSEReader(strings.NewReader(tc.in))
			var got []ev
			var err error
			for {
				var name, data []byte
				if name, data, err = r.next(); err != nil {
					break
				}
				got = append(got, ev{string(name), string(data)})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestCheckResponse(t *testing.T) {
	tests := []struct {
		msg    string
		wantOK bool
	}{
		{`{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`, true},
		{`{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":true}}`, false},
		{`{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Unknown tool"}}`, false},
		{`{"jsonrpc":"2.0","id":1}`, false},
	}
	for _, tc := range tests {
		if err := checkResponse([]byte(tc.msg)); (err == nil) != tc.wantOK {
			t.Errorf("checkResponse(%s) = %v, want ok=%v", tc.msg, err, tc.wantOK)
		}
	}
	if id, ok := messageID([]byte(`{"jsonrpc":"2.0","id" : 1234,"result":{}}`)); !ok || id != 1234 {
		t.Errorf("messageID = %d %v", id, ok)
	}
	if _, ok := messageID([]byte(`{"jsonrpc":"2.0","id":"x"}`)); ok {
		t.Error("messageID read a string id")
	}
}

func TestPercentile(t *testing.T) {
	r := &result{}
	for i := 1; i <= 100; i++ {
		r.Latency = append(r.Latency, timeMS(i))
	}
	for _, tc := range []struct {
		p    float64
		want int
	}{{0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := r.Percentile(tc.p); got != timeMS(tc.want) {
			t.Errorf("Percentile(%v) = %v, want %v", tc.p, got, timeMS(tc.want))
		}
	}
	if got := (&result{}).Percentile(0.5); got != 0 {
		t.Errorf("empty Percentile = %v", got)
	}
}
