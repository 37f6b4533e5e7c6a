package upstream

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// script is a RunOnce whose attempts follow a list: each either fails at
// once with its error or becomes ready and then runs until ctx ends.
type script struct {
	errs  []error // per attempt; nil: ready until closed
	calls int
}

func (s *script) runOnce(ctx context.Context, onReady func()) (time.Duration, error) {
	i := s.calls
	s.calls++
	if i < len(s.errs) && s.errs[i] != nil {
		return 0, s.errs[i]
	}
	onReady()
	<-ctx.Done()
	return 0, nil
}

func TestSupervisor(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name         string
		errs         []error
		maxRestarts  int
		renew        bool
		wantStartErr bool
		wantState    State
		wantRestarts int
		wantElapsed  time.Duration // virtual time until the state is reached
	}{
		{name: "ready at once", errs: nil, wantState: StateReady},
		{name: "two failures, then ready after 100ms+200ms", errs: []error{boom, boom}, wantStartErr: true,
			wantState: StateReady, wantRestarts: 2, wantElapsed: 300 * time.Millisecond},
		{name: "renewed at once", errs: []error{boom}, renew: true, wantStartErr: true, wantState: StateReady, wantRestarts: 1},
		{name: "gives up after MaxRestarts", errs: []error{boom, boom, boom}, maxRestarts: 2, wantStartErr: true,
			wantState: StateStopped, wantRestarts: 3, wantElapsed: 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sc := &script{errs: tt.errs}
				s := NewSupervisor(SupervisorOptions{
					Name: "t", BackoffMin: 100 * time.Millisecond, BackoffMax: time.Second, StableAfter: time.Minute,
					MaxRestarts: tt.maxRestarts, RunOnce: sc.runOnce,
					Renew: func(error, time.Duration) bool { return tt.renew },
				})
				s.jitter = func(n int64) int64 { return n - 1 } // the full backoff
				start := time.Now()
				if err := s.Start(context.Background()); (err != nil) != tt.wantStartErr {
					t.Fatalf("Start = %v, want error %v", err, tt.wantStartErr)
				}
				synctest.Wait()
				for s.State() != tt.wantState {
					time.Sleep(time.Millisecond)
					synctest.Wait()
				}
				if got := time.Since(start); got != tt.wantElapsed {
					t.Errorf("reached %s after %v, want %v", tt.wantState, got, tt.wantElapsed)
				}
				if got, _ := s.Counts(); got != tt.wantRestarts {
					t.Errorf("restarts = %d, want %d", got, tt.wantRestarts)
				}
				if err := s.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				if got := s.State(); got != StateStopped {
					t.Errorf("state after Close = %s", got)
				}
				if err := s.Start(context.Background()); !errors.Is(err, ErrClosed) {
					t.Errorf("Start after Close = %v, want ErrClosed", err)
				}
			})
		})
	}
}

func TestSupervisorWaitReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ready := false
		s := NewSupervisor(SupervisorOptions{Name: "t", BackoffMin: time.Second, BackoffMax: time.Second,
			RunOnce: func(ctx context.Context, onReady func()) (time.Duration, error) {
				time.Sleep(50 * time.Millisecond) // a slow attempt that fails
				return 0, errors.New("never ready")
			}})
		go s.Start(context.Background())
		synctest.Wait()
		err := s.WaitReady(context.Background(), 0, func() bool { return ready })
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("WaitReady without waiting = %v, want ErrUnavailable", err)
		}
		start := time.Now()
		err = s.WaitReady(context.Background(), 500*time.Millisecond, func() bool { return ready })
		if !errors.Is(err, ErrUnavailable) || time.Since(start) != 500*time.Millisecond {
			t.Fatalf("WaitReady = %v after %v, want ErrUnavailable after 500ms", err, time.Since(start))
		}
		s.Close(context.Background())
	})
}
