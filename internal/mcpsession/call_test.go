package mcpsession

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

// TestCallContext: a call context carries the request's values and the
// session's lifetime, and the contexts the relay derives from it (a
// timeout per call) end with the session, not with the request.
func TestCallContext(t *testing.T) {
	tests := []struct {
		name string
		make func(*Live, context.Context) context.Context
	}{
		{"CallContext", CallContext},
		{"NewCallCtx", func(ls *Live, r context.Context) context.Context { c := NewCallCtx(ls, r); return &c }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := context.WithValue(context.Background(), ctxKey{}, "session value")
			sctx, endSession := context.WithCancel(base)
			defer endSession()
			ls := &Live{ctx: sctx}
			req, endRequest := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "request value"))
			cc := tt.make(ls, req)

			if got := cc.Value(ctxKey{}); got != "request value" {
				t.Errorf("Value: got %v, want the request's", got)
			}
			call, cancel := context.WithTimeout(cc, time.Hour)
			defer cancel()
			endRequest() // disconnection is not cancellation
			if err := call.Err(); err != nil {
				t.Fatalf("call context ended with the request: %v", err)
			}
			endSession()
			select {
			case <-call.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("call context did not end with the session")
			}
			if err := call.Err(); !errors.Is(err, context.Canceled) {
				t.Errorf("Err: got %v, want Canceled", err)
			}
		})
	}
}

// TestCallContextDerivesCheaply: a timeout derived from a call context
// registers with the session's context directly (no AfterFunc and its
// closure): what the relay pays per call.
func TestCallContextDerivesCheaply(t *testing.T) {
	if cancelCtxKey == nil {
		t.Fatal("the context package's cancelCtx key was not learnt from context.Cause")
	}
	sctx, endSession := context.WithCancel(context.Background())
	defer endSession()
	ls := &Live{ctx: sctx}
	cc := NewCallCtx(ls, context.Background())
	allocs := testing.AllocsPerRun(1000, func() {
		_, cancel := context.WithTimeout(&cc, time.Hour)
		cancel()
	})
	// What a WithTimeout from a plain cancelCtx takes (the timerCtx, its
	// timer and closure, the done channel); through AfterFunc it took eight.
	t.Logf("WithTimeout and cancel from a call context: %v allocations", allocs)
	if allocs > 4 {
		t.Errorf("WithTimeout from a call context: %v allocations, want ≤ 4", allocs)
	}
}
