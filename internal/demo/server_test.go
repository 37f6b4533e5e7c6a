package demo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

func TestInitializeNegotiatesVersion(t *testing.T) {
	tests := []struct {
		name, requested, want string
		wantCompletions       bool
		wantTitle             bool
	}{
		{"latest", "2025-11-25", "2025-11-25", true, true},
		{"2025-06-18", "2025-06-18", "2025-06-18", true, true},
		{"2025-03-26", "2025-03-26", "2025-03-26", true, false},
		{"2024-11-05 has no completions capability", "2024-11-05", "2024-11-05", false, false},
		{"unknown version gets the latest", "1999-01-01", "2025-11-25", true, true},
		{"future version gets the latest", "2026-07-28", "2025-11-25", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startServer(t, &Options{ServerVersion: "1.2.3"})
			res := c.initialize(tt.requested, nil)
			if res.ProtocolVersion != tt.want {
				t.Errorf("protocolVersion = %q, want %q", res.ProtocolVersion, tt.want)
			}
			if res.ServerInfo.Name != ServerName || res.ServerInfo.Version != "1.2.3" {
				t.Errorf("serverInfo = %+v, want %s 1.2.3", res.ServerInfo, ServerName)
			}
			if got := res.ServerInfo.Title != ""; got != tt.wantTitle {
				t.Errorf("serverInfo.title present = %v, want %v", got, tt.wantTitle)
			}
			caps := unmarshal(t, res.Capabilities).(map[string]any)
			want := map[string]any{
				"tools":     map[string]any{"listChanged": true},
				"prompts":   map[string]any{"listChanged": true},
				"resources": map[string]any{"subscribe": true, "listChanged": true},
				"logging":   map[string]any{},
			}
			if tt.wantCompletions {
				want["completions"] = map[string]any{}
			}
			if diff := cmp.Diff(want, caps); diff != "" {
				t.Errorf("capabilities (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLifecycleRules(t *testing.T) {
	c := startServer(t, nil)
	// Before initialize: ping works, other requests do not.
	if got := c.mustResult("ping", nil); string(got) != "{}" {
		t.Errorf("ping before initialize = %s, want {}", got)
	}
	resp, _ := c.call("tools/list", nil, nil)
	if resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidRequest {
		t.Errorf("tools/list before initialize = %+v, want error %d", resp, jsonrpc.CodeInvalidRequest)
	}
	resp, _ = c.call("initialize", map[string]any{"capabilities": map[string]any{}}, nil)
	if resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("initialize without protocolVersion = %+v, want error %d", resp, jsonrpc.CodeInvalidParams)
	}
	c.initialize("2025-11-25", nil)
	resp, _ = c.call("initialize", map[string]any{"protocolVersion": "2025-11-25"}, nil)
	if resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidRequest {
		t.Errorf("second initialize = %+v, want error %d", resp, jsonrpc.CodeInvalidRequest)
	}
	if got := c.mustResult("ping", map[string]any{}); string(got) != "{}" {
		t.Errorf("ping = %s, want {}", got)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		wantID   string
		wantCode int
		wantData string // JSON, compared when set
	}{
		{"malformed JSON", `{"jsonrpc":"2.0","id":1,"method":`, "null", jsonrpc.CodeParseError, ""},
		{"not an object", `42`, "null", jsonrpc.CodeInvalidRequest, ""},
		{"wrong jsonrpc version keeps the id", `{"jsonrpc":"1.0","id":5,"method":"ping"}`, "5", jsonrpc.CodeInvalidRequest, ""},
		{"null id", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, "null", jsonrpc.CodeInvalidRequest, ""},
		{"unknown method", `{"jsonrpc":"2.0","id":"u","method":"no/such"}`, `"u"`, jsonrpc.CodeMethodNotFound, ""},
		{"params not an object", `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":[1]}`, "2", jsonrpc.CodeInvalidParams, ""},
		{"tools/call without name", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}}`, "3", jsonrpc.CodeInvalidParams, ""},
		{"tools/call name not a string", `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":7}}`, "4", jsonrpc.CodeInvalidParams, ""},
		{"tools/call arguments not an object", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":[]}}`, "5", jsonrpc.CodeInvalidParams, ""},
		{"unknown tool", `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"nope"}}`, "6", jsonrpc.CodeInvalidParams, ""},
		{"unknown resource", `{"jsonrpc":"2.0","id":7,"method":"resources/read","params":{"uri":"test://nope"}}`, "7", jsonrpc.CodeResourceNotFound, `{"uri":"test://nope"}`},
		{"resources/read without uri", `{"jsonrpc":"2.0","id":8,"method":"resources/read","params":{}}`, "8", jsonrpc.CodeInvalidParams, ""},
		{"unknown prompt", `{"jsonrpc":"2.0","id":9,"method":"prompts/get","params":{"name":"nope"}}`, "9", jsonrpc.CodeInvalidParams, ""},
		{"missing prompt argument", `{"jsonrpc":"2.0","id":10,"method":"prompts/get","params":{"name":"test_prompt_with_arguments","arguments":{"arg1":"a"}}}`, "10", jsonrpc.CodeInvalidParams, ""},
		{"prompt argument not a string", `{"jsonrpc":"2.0","id":11,"method":"prompts/get","params":{"name":"test_simple_prompt","arguments":{"x":1}}}`, "11", jsonrpc.CodeInvalidParams, ""},
		{"unknown log level", `{"jsonrpc":"2.0","id":12,"method":"logging/setLevel","params":{"level":"loud"}}`, "12", jsonrpc.CodeInvalidParams, ""},
		{"invalid cursor", `{"jsonrpc":"2.0","id":13,"method":"tools/list","params":{"cursor":"zzz"}}`, "13", jsonrpc.CodeInvalidParams, ""},
		{"subscribe to unknown resource", `{"jsonrpc":"2.0","id":14,"method":"resources/subscribe","params":{"uri":"test://nope"}}`, "14", jsonrpc.CodeResourceNotFound, `{"uri":"test://nope"}`},
		{"completion without ref", `{"jsonrpc":"2.0","id":15,"method":"completion/complete","params":{"argument":{"name":"a","value":""}}}`, "15", jsonrpc.CodeInvalidParams, ""},
		{"batch outside 2025-03-26", `[{"jsonrpc":"2.0","id":16,"method":"ping"}]`, "null", jsonrpc.CodeInvalidRequest, ""},
		{"malformed batch", `[{"jsonrpc":"2.0","id":17,`, "null", jsonrpc.CodeParseError, ""},
	}
	c := started(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			c.send(tt.line)
			m := c.next()
			if m.Error == nil {
				t.Fatalf("got %s, want an error response", jsonrpc.Encode(m))
			}
			if string(m.ID) != tt.wantID || m.Error.Code != tt.wantCode {
				t.Errorf("got id %s code %d (%s), want id %s code %d", m.ID, m.Error.Code, m.Error.Message, tt.wantID, tt.wantCode)
			}
			if tt.wantData != "" && string(m.Error.Data) != tt.wantData {
				t.Errorf("error data = %s, want %s", m.Error.Data, tt.wantData)
			}
		})
	}
	c.t = t
	// The server is still serving.
	if got := c.mustResult("ping", nil); string(got) != "{}" {
		t.Errorf("ping after bad input = %s", got)
	}
}

func TestMessageTooLong(t *testing.T) {
	c := startServer(t, &Options{MaxMessageBytes: 64})
	c.send(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"padding":"` + strings.Repeat("x", 200) + `"}}`)
	m := c.next()
	if m.Error == nil || m.Error.Code != jsonrpc.CodeParseError || string(m.ID) != "null" {
		t.Fatalf("over-long line: got %s, want a parse error with id null", jsonrpc.Encode(m))
	}
	if got := c.mustResult("ping", nil); string(got) != "{}" {
		t.Errorf("ping after an over-long line = %s, want {}", got)
	}
}

func TestBatch(t *testing.T) {
	t.Run("2025-03-26 answers a batch with an array", func(t *testing.T) {
		c := startServer(t, nil)
		c.initialize("2025-03-26", nil)
		c.send(`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/roots/list_changed"},` +
			`{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"test://static-text"}},` +
			`{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-03-26"}},` +
			`{"jsonrpc":"2.0","id":4,"method":"no/such"},7]`)
		var got []jsonrpc.Message
		if err := json.Unmarshal(c.nextLine(), &got); err != nil {
			t.Fatalf("batch response is not an array of messages: %v", err)
		}
		byID := map[string]jsonrpc.Message{}
		for _, m := range got {
			byID[string(m.ID)] = m
		}
		if len(got) != 5 {
			t.Errorf("batch response has %d messages, want 5 (4 requests and 1 invalid entry)", len(got))
		}
		if m := byID["1"]; string(m.Result) != "{}" {
			t.Errorf("ping in batch = %+v, want {}", m)
		}
		if m := byID["2"]; !strings.Contains(string(m.Result), staticText) {
			t.Errorf("resources/read in batch = %s", m.Result)
		}
		if m := byID["3"]; m.Error == nil || m.Error.Code != jsonrpc.CodeInvalidRequest {
			t.Errorf("initialize in batch = %+v, want invalid request", m)
		}
		if m := byID["4"]; m.Error == nil || m.Error.Code != jsonrpc.CodeMethodNotFound {
			t.Errorf("unknown method in batch = %+v, want method not found", m)
		}
		if m := byID["null"]; m.Error == nil || m.Error.Code != jsonrpc.CodeInvalidRequest {
			t.Errorf("invalid entry in batch = %+v, want invalid request with id null", m)
		}
		// A batch of notifications only gets no response at all.
		c.send(`[{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}]`)
		if got := c.mustResult("ping", nil); string(got) != "{}" {
			t.Errorf("ping after a notification batch = %s", got)
		}
	})
	for _, v := range []string{"", "2024-11-05", "2025-06-18", "2025-11-25"} {
		t.Run("refused in version "+v, func(t *testing.T) {
			c := startServer(t, nil)
			if v != "" {
				c.initialize(v, nil)
			}
			c.send(`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`)
			m := c.next()
			if m.Error == nil || m.Error.Code != jsonrpc.CodeInvalidRequest || string(m.ID) != "null" {
				t.Errorf("batch = %s, want invalid request with id null", jsonrpc.Encode(m))
			}
		})
	}
}

func TestServeStops(t *testing.T) {
	t.Run("stdin closed: nil, running calls cancelled and unanswered", func(t *testing.T) {
		c := started(t, nil)
		c.sendRequest("tools/call", map[string]any{"name": "slow", "arguments": map[string]any{"ms": 600000}})
		if rest := c.finish(); len(rest) != 0 {
			t.Errorf("server wrote %q after stdin closed, want nothing", rest)
		}
	})
	t.Run("context cancelled: ctx.Err()", func(t *testing.T) {
		inR, inW := io.Pipe()
		defer inW.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, inR, io.Discard, &Options{Logger: slog.New(slog.DiscardHandler)}) }()
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Serve = %v, want context.Canceled", err)
			}
		case <-time.After(waitFor):
			t.Fatal("Serve did not return after cancellation")
		}
		// Serve closed its input, so writing to it fails now.
		if _, err := inW.Write([]byte("{}\n")); err == nil {
			t.Error("writing to the server's stdin after Serve returned succeeded, want the pipe closed")
		}
	})
	t.Run("stdout broken: error", func(t *testing.T) {
		inR, inW := io.Pipe()
		defer inW.Close()
		done := make(chan error, 1)
		go func() {
			done <- Serve(context.Background(), inR, failingWriter{}, &Options{Logger: slog.New(slog.DiscardHandler)})
		}()
		if _, err := inW.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n")); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "writing to client") {
				t.Errorf("Serve = %v, want a write error", err)
			}
		case <-time.After(waitFor):
			t.Fatal("Serve did not return after a write error")
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestLineFraming(t *testing.T) {
	t.Run("line longer than the read buffer", func(t *testing.T) {
		c := started(t, nil)
		msg := strings.Repeat("é\n", 100_000) // 300 kB, with newlines escaped in JSON
		res, _ := c.toolCall("echo", map[string]any{"message": msg}, nil)
		if res.Content[0].Text != "Echo: "+msg {
			t.Errorf("echo of a long message came back with %d bytes, want %d", len(res.Content[0].Text), len("Echo: "+msg))
		}
	})
	t.Run("last line without newline", func(t *testing.T) {
		c := started(t, nil)
		if _, err := c.stdin.Write([]byte("\n  \n" + `{"jsonrpc":"2.0","id":"last","method":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		rest := c.finish()
		if len(rest) != 1 || string(rest[0]) != `{"jsonrpc":"2.0","id":"last","result":{}}`+"\n" {
			t.Errorf("server wrote %q, want the ping response", rest)
		}
	})
}
