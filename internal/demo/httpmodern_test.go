package demo

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const httpMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`

// modernHeaders are the request headers of a 2026-07-28 request [SH26].
func modernHeaders(method, name string) map[string]string {
	h := map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": method}
	if name != "" {
		h["Mcp-Name"] = name
	}
	return h
}

// TestHTTPModern: the 2026-07-28 era over HTTP, one POST per request.
func TestHTTPModern(t *testing.T) {
	_, url := startHTTP(t, &HTTPOptions{Server: &Options{Era: EraModern}})
	echo := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"},` + httpMeta + `}}`
	tests := []struct {
		name, method string
		hdr          map[string]string
		body         string
		wantStatus   int
		wantBody     string // substring
	}{
		{name: "discover", method: "POST", hdr: modernHeaders("server/discover", ""),
			body:       `{"jsonrpc":"2.0","id":"d","method":"server/discover","params":{` + httpMeta + `}}`,
			wantStatus: 200, wantBody: `"id":"d","result":{"resultType":"complete","supportedVersions":["2026-07-28"]`},
		{name: "call", method: "POST", hdr: modernHeaders("tools/call", "echo"), body: echo,
			wantStatus: 200, wantBody: `{"jsonrpc":"2.0","id":1,"result":{"resultType":"complete","content":[{"type":"text","text":"Echo: hi"}]}}`},
		{name: "same id again", method: "POST", hdr: modernHeaders("tools/call", "echo"), body: echo, wantStatus: 200, wantBody: `"id":1,"result"`},
		{name: "no Mcp-Method", method: "POST", hdr: map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Name": "echo"}, body: echo,
			wantStatus: 400, wantBody: `"id":1,"error":{"code":-32020`},
		{name: "Mcp-Name differs", method: "POST", hdr: modernHeaders("tools/call", "add"), body: echo, wantStatus: 400, wantBody: `"code":-32020`},
		{name: "no version header", method: "POST", hdr: map[string]string{"Mcp-Method": "tools/call", "Mcp-Name": "echo"}, body: echo,
			wantStatus: 400, wantBody: `"code":-32020`},
		{name: "version header differs from _meta", method: "POST", hdr: map[string]string{"Mcp-Protocol-Version": "2025-11-25", "Mcp-Method": "tools/call", "Mcp-Name": "echo"},
			body: echo, wantStatus: 400, wantBody: `"code":-32020`},
		{name: "unsupported version", method: "POST", hdr: map[string]string{"Mcp-Protocol-Version": "2099-01-01", "Mcp-Method": "tools/call", "Mcp-Name": "echo"},
			body: strings.Replace(echo, `"2026-07-28"`, `"2099-01-01"`, 1), wantStatus: 400, wantBody: `"code":-32022`},
		{name: "initialize is not a method", method: "POST", hdr: modernHeaders("initialize", ""), body: initBody, wantStatus: 404, wantBody: `"code":-32601`},
		{name: "notification", method: "POST", hdr: modernHeaders("notifications/initialized", ""),
			body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, wantStatus: 202},
		{name: "response", method: "POST", hdr: modernHeaders("", ""), body: `{"jsonrpc":"2.0","id":9,"result":{}}`, wantStatus: 400, wantBody: `"no_responses"`},
		{name: "GET", method: "GET", wantStatus: 405},
		{name: "DELETE", method: "DELETE", wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := do(t, tt.method, url, tt.hdr, tt.body)
			if got.status != tt.wantStatus || !strings.Contains(got.body, tt.wantBody) {
				t.Errorf("%d %s, want %d with %s", got.status, got.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// TestHTTPModernReusedIDs: stateless clients reuse request ids freely;
// two slow calls with the same id at once both succeed, each with its id.
func TestHTTPModernReusedIDs(t *testing.T) {
	_, url := startHTTP(t, &HTTPOptions{Server: &Options{Era: EraModern}})
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow","arguments":{"ms":200},` + httpMeta + `}}`
	var wg sync.WaitGroup
	results := make([]exchangeResult, 2)
	for i := range results {
		wg.Go(func() { results[i] = do(t, "POST", url, modernHeaders("tools/call", "slow"), body) })
	}
	wg.Wait()
	for i, r := range results {
		if r.status != 200 || !strings.Contains(r.body, `"id":1,"result":{"resultType":"complete","content":[{"type":"text","text":"Slept 200 ms"}]}`) {
			t.Errorf("call %d = %d %s", i, r.status, r.body)
		}
	}
}

// TestHTTPModernListen: subscriptions/listen holds its POST open as an SSE
// stream; the acknowledgement and the change notifications it asked for
// carry the client's request id as subscriptionId; closing it ends it.
func TestHTTPModernListen(t *testing.T) {
	h, url := startHTTP(t, &HTTPOptions{Server: &Options{Era: EraModern}})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	listen := `{"jsonrpc":"2.0","id":"L1","method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},` + httpMeta + `}}`
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(listen))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range modernHeaders("subscriptions/listen", "") {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("listen answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan string, 4)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- d
			}
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case d := <-events:
			return d
		case <-time.After(waitFor):
			t.Fatalf("no %s", what)
		}
		return ""
	}
	ack := next("acknowledgement")
	if !strings.Contains(ack, `"method":"notifications/subscriptions/acknowledged"`) || !strings.Contains(ack, `"io.modelcontextprotocol/subscriptionId":"L1"`) {
		t.Errorf("acknowledgement = %s", ack)
	}
	trigger := `{"jsonrpc":"2.0","id":"L1","method":"tools/call","params":{"name":"trigger_list_changed","arguments":{"list":"tools"},` + httpMeta + `}}`
	if r := do(t, "POST", url, modernHeaders("tools/call", "trigger_list_changed"), trigger); r.status != 200 {
		t.Fatalf("trigger_list_changed = %d %s", r.status, r.body)
	}
	if n := next("list_changed"); n != `{"jsonrpc":"2.0","method":"notifications/tools/list_changed","params":{"_meta":{"io.modelcontextprotocol/subscriptionId":"L1"}}}` {
		t.Errorf("notification = %s", n)
	}
	cancel() // closing the stream cancels the listen [SH26 §Cancellation]
	deadline := time.Now().Add(waitFor)
	for {
		h.mu.Lock()
		n := len(h.listens)
		h.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the listen did not end with its stream")
		}
		time.Sleep(10 * time.Millisecond) // polling the handler's state
	}
}
