package httpfront

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// holder serves POST /mcp?hold by answering 202, holding it and running
// work; any other request is echo's.
func holder(work func(w http.ResponseWriter, h Held)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "hold" {
			echo(w, r)
			return
		}
		w.Header().Set("X-Held", "yes")
		w.WriteHeader(http.StatusAccepted)
		h, ok := Hold(w)
		if !ok {
			panic("Hold refused a fast-lane response")
		}
		work(w, h)
	})
}

// expectHeld reads a held 202 and then checks the connection serves the
// next request as usual.
func expectHeld(t *testing.T, c *rawConn) {
	t.Helper()
	resp, body := c.read()
	if resp.StatusCode != http.StatusAccepted || body != "" || resp.Header.Get("X-Held") != "yes" || resp.ContentLength != 0 {
		t.Fatalf("held response: %d %q, header %v", resp.StatusCode, body, resp.Header)
	}
}

func expectEcho(t *testing.T, c *rawConn, msg string) {
	t.Helper()
	c.send(post("/mcp", msg))
	if resp, body := c.read(); resp.StatusCode != http.StatusOK || body != msg {
		t.Fatalf("next request: %d %q", resp.StatusCode, body)
	}
}

// TestHoldUntilReturn: a handler that returns before MaxHold sends its
// held response itself, after its work, on the same goroutine.
func TestHoldUntilReturn(t *testing.T) {
	var worked atomic.Bool
	s, addr := start(t, holder(func(http.ResponseWriter, Held) { worked.Store(true) }),
		func(o *Options) { o.MaxHold = time.Hour })
	c := dial(t, addr)
	c.send(post("/mcp?hold", `{"a":1}`))
	expectHeld(t, c)
	if !worked.Load() {
		t.Error("the held response left before its handler's work")
	}
	expectEcho(t, c, `{"b":2}`)
	if fast, _ := s.Stats(); fast != 2 {
		t.Errorf("fast-lane requests: %d, want 2", fast)
	}
}

// TestHoldRelease: Release sends the response while the handler runs on,
// and the connection serves the client's next requests meanwhile and
// after; the handler's return writes nothing more.
func TestHoldRelease(t *testing.T) {
	proceed, returned := make(chan struct{}), make(chan struct{})
	_, addr := start(t, holder(func(_ http.ResponseWriter, h Held) {
		defer close(returned)
		h.Release()
		h.Release() // a no-op
		<-proceed
	}), func(o *Options) { o.MaxHold = time.Hour })
	c := dial(t, addr)
	c.send(post("/mcp?hold", `{}`))
	expectHeld(t, c)
	expectEcho(t, c, `{"while":"held"}`)
	close(proceed)
	<-returned
	expectEcho(t, c, `{"after":"return"}`)
}

// TestHoldMaxHold: a handler still running after MaxHold has its response
// sent by the server's sweep (a MaxHold shorter than the sweep's shortest
// tick too).
func TestHoldMaxHold(t *testing.T) {
	for _, maxHold := range []time.Duration{time.Millisecond, time.Nanosecond} {
		t.Run(maxHold.String(), func(t *testing.T) {
			proceed := make(chan struct{})
			defer close(proceed)
			_, addr := start(t, holder(func(http.ResponseWriter, Held) { <-proceed }),
				func(o *Options) { o.MaxHold = maxHold })
			c := dial(t, addr)
			for i := range 3 { // each on a sweep of its own, or the same
				c.send(post("/mcp?hold", `{}`))
				expectHeld(t, c)
				expectEcho(t, c, strings.Repeat("x", i+1))
			}
		})
	}
}

// TestHoldUnreadBody: a body the handler left unread when it held its
// response is skipped, whoever sends the response.
func TestHoldUnreadBody(t *testing.T) {
	for _, release := range []bool{false, true} {
		_, addr := start(t, holder(func(_ http.ResponseWriter, h Held) {
			if release {
				h.Release()
			}
		}), func(o *Options) { o.MaxHold = time.Hour })
		c := dial(t, addr)
		c.send(post("/mcp?hold", strings.Repeat("b", 10000)))
		expectHeld(t, c)
		expectEcho(t, c, `{"next":true}`)
	}
}

// TestHoldRefused: Hold holds nothing before WriteHeader, twice, after a
// Flush, or on net/http's lane; through a wrapper with Unwrap it holds.
func TestHoldRefused(t *testing.T) {
	type result struct{ beforeHeader, first, second, flushed, wrapped bool }
	got := make(chan result, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res result
		switch r.URL.RawQuery {
		case "flush":
			w.WriteHeader(http.StatusAccepted)
			http.NewResponseController(w).Flush()
			_, res.flushed = Hold(w)
		case "wrapped":
			w.WriteHeader(http.StatusAccepted)
			_, res.wrapped = Hold(unwrapper{w})
		default:
			_, res.beforeHeader = Hold(w)
			w.WriteHeader(http.StatusAccepted)
			_, res.first = Hold(w)
			_, res.second = Hold(w)
		}
		got <- res
	})
	_, addr := start(t, h, nil)
	for _, q := range []string{"", "flush", "wrapped"} {
		c := dial(t, addr)
		c.send(post("/mcp?"+q, `{}`))
		if resp, _ := c.read(); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("?%s: status %d", q, resp.StatusCode)
		}
		res := <-got
		switch q {
		case "":
			if res.beforeHeader || !res.first || res.second {
				t.Errorf("Hold before WriteHeader %v, after it %v, again %v; want false, true, false", res.beforeHeader, res.first, res.second)
			}
		case "flush":
			if res.flushed {
				t.Error("Hold after a Flush held")
			}
		case "wrapped":
			if !res.wrapped {
				t.Error("Hold through an Unwrap wrapper refused")
			}
		}
	}

	_, addr = start(t, h, func(o *Options) { o.NetHTTPOnly = true })
	c := dial(t, addr)
	c.send(post("/mcp", `{}`))
	c.read()
	if res := <-got; res.beforeHeader || res.first || res.second {
		t.Errorf("on net/http's lane Hold held: %+v", res)
	}
}

type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// signal is a slog handler that reports records with a message.
type signal struct {
	msg string
	ch  chan struct{}
}

func (s signal) Enabled(context.Context, slog.Level) bool { return true }
func (s signal) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s signal) WithGroup(string) slog.Handler            { return s }
func (s signal) Handle(_ context.Context, r slog.Record) error {
	if r.Message == s.msg {
		s.ch <- struct{}{}
	}
	return nil
}

// TestHoldPanicAfterRelease: a handler that panics after its response
// went is logged, and the connection, no longer its, stays open.
func TestHoldPanicAfterRelease(t *testing.T) {
	proceed := make(chan struct{})
	logged := signal{msg: "panic serving a request", ch: make(chan struct{}, 1)}
	_, addr := start(t, holder(func(_ http.ResponseWriter, h Held) {
		h.Release()
		<-proceed
		panic("boom")
	}), func(o *Options) { o.MaxHold, o.Log = time.Hour, slog.New(logged) })
	c := dial(t, addr)
	c.send(post("/mcp?hold", `{}`))
	expectHeld(t, c)
	close(proceed)
	<-logged.ch
	expectEcho(t, c, `{"after":"panic"}`)
}

// TestHoldShutdown: Shutdown waits for a held response, and returns once
// it went and its connection is idle, with the handler still running.
func TestHoldShutdown(t *testing.T) {
	held, proceed := make(chan Held, 1), make(chan struct{})
	defer close(proceed)
	s, addr := start(t, holder(func(_ http.ResponseWriter, h Held) {
		held <- h
		<-proceed
	}), func(o *Options) { o.MaxHold = time.Hour })
	c := dial(t, addr)
	c.send(post("/mcp?hold", `{}`))
	h := <-held
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(ctx) }()
	h.Release()
	expectHeld(t, c)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := io.ReadAll(c.br); err != nil {
		t.Errorf("after Shutdown: %v", err)
	}
}
