package relay

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSweepInterval(t *testing.T) {
	tests := []struct{ shortest, want time.Duration }{
		{time.Minute, maxSweep},
		{time.Second, 100 * time.Millisecond},
		{300 * time.Millisecond, 30 * time.Millisecond},
		{10 * time.Millisecond, minSweep},
		{0, minSweep},
	}
	for _, tt := range tests {
		if got := sweepInterval(tt.shortest); got != tt.want {
			t.Errorf("sweepInterval(%v) = %v, want %v", tt.shortest, got, tt.want)
		}
	}
}

// TestCallTimedOutIsADeadline: the upstream connections word their
// notifications/cancelled from context.Cause; a call the sweeper ends must
// read as a deadline there, and not as a client's cancellation.
func TestCallTimedOutIsADeadline(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errCallTimedOut)
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Errorf("Cause = %v, want one that wraps context.DeadlineExceeded", context.Cause(ctx))
	}
	ctx, cancel = context.WithCancelCause(context.Background())
	cancel(context.Canceled) // the client's notifications/cancelled
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Errorf("a client's cancellation reads as a timeout: %v", context.Cause(ctx))
	}
}
