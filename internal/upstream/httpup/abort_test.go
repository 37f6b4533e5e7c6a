package httpup_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
)

// TestCloseAbortsCallsInFlight: Close aborts a POST whose answer has not
// begun (its context is registered with the session, post.go): the call
// fails with ErrUnavailable and the server sees its request end.
func TestCloseAbortsCallsInFlight(t *testing.T) {
	arrived := make(chan struct{})
	aborted := make(chan struct{})
	stop := make(chan struct{}) // lets a handler that was never aborted go
	srv, _ := scriptedReq(t, func(w http.ResponseWriter, r *http.Request, id json.RawMessage) {
		// The answer never begins; the request ends when the gateway
		// aborts it (its connection closes).
		close(arrived)
		select {
		case <-r.Context().Done():
			close(aborted)
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) }) // before srv.Close, which waits for the handler
	c := start(t, remote.Endpoint{Conn: remote.Options{Name: "a"}, URL: srv.URL})
	called := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), "tools/call", json.RawMessage(`{"name":"slow"}`))
		called <- err
	}()
	<-arrived
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close = %v", err)
	}
	select {
	case err := <-called:
		if !errors.Is(err, upstream.ErrUnavailable) {
			t.Errorf("Call = %v, want ErrUnavailable", err)
		}
	case <-ctx.Done():
		t.Fatal("the call in flight outlived Close")
	}
	select {
	case <-aborted:
	case <-ctx.Done():
		t.Fatal("the server's request was not aborted")
	}
}
