package sessiontest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/session"
)

// testInitialize checks Initializer, for stores that implement it: a
// session opened without a protocol version is completed once, and keeps
// its owner and activity.
func testInitialize(t *testing.T, st session.Store) {
	in, ok := st.(session.Initializer)
	if !ok {
		t.Skip("store does not implement session.Initializer")
	}
	open := sample("opened", t0)
	open.ProtocolVersion, open.Capabilities, open.ClientInfo, open.Transport = "", nil, nil, "sse"
	if err := st.Create(ctx, open, 0); err != nil {
		t.Fatal(err)
	}
	if err := in.Initialize(ctx, "nosuch", "2024-11-05", nil, nil); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Initialize unknown: got %v, want ErrNotFound", err)
	}
	caps, info := json.RawMessage(`{"roots":{}}`), json.RawMessage(`{"name":"old","version":"0"}`)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = in.Initialize(ctx, "opened", "2024-11-05", caps, info) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, session.ErrInitialized):
			t.Errorf("concurrent Initialize: got %v, want nil or ErrInitialized", err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent Initializes succeeded, want exactly 1", won)
	}
	got, err := st.Get(ctx, "opened")
	if err != nil {
		t.Fatal(err)
	}
	if got.ProtocolVersion != "2024-11-05" || string(got.Capabilities) != string(caps) || string(got.ClientInfo) != string(info) ||
		got.Principal.Key() != open.Principal.Key() || got.Transport != "sse" || !got.LastActive.Equal(t0) {
		t.Errorf("after Initialize: %+v", got)
	}
	if err := st.Touch(ctx, "opened", t0.Add(1)); err != nil {
		t.Errorf("Touch after Initialize: %v", err)
	}
}
