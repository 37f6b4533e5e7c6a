package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// churnCaller runs the whole life of a session per call: initialize,
// notifications/initialized, one tools/call, DELETE. That is what hosted
// clients such as ChatGPT and Claude.ai do for every tool call, so its
// rate, in sessions per second, is what such traffic can reach.
type churnCaller struct {
	conn *h1conn
	t    *httpTarget
}

func (c *churnCaller) call(id int64) error {
	s, err := c.t.openStreamable(c.conn, version20251125)
	if err != nil {
		return err
	}
	callErr := s.callerOn(c.conn).call(id)
	closeErr := s.close(context.Background())
	if callErr != nil {
		return callErr
	}
	return closeErr
}

// runChurn drives c churning workers against the Streamable HTTP endpoint
// url, with the extra headers hdr on every request (nil: none), for d
// after warmup. The result counts sessions.
func runChurn(ctx context.Context, u *url.URL, tc toolCall, hdr http.Header, c int, warmup, d time.Duration, pids ...int) (*result, error) {
	t, err := newHTTPTarget(u, nil, tc, hdr)
	if err != nil {
		return nil, err
	}
	callers := make([]caller, c)
	for i := range callers {
		cc := &churnCaller{conn: newH1Conn(ctx, u), t: t}
		defer cc.conn.close()
		callers[i] = cc
	}
	if err := callers[0].call(ids.Add(1)); err != nil {
		return nil, fmt.Errorf("first session: %w", err)
	}
	return drive(callers, warmup, d, pids...), ctx.Err()
}
