package workpool

import (
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// workers counts the pool's worker goroutines.
func workers() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "workpool.(*Pool).worker(")
}

func TestPool(t *testing.T) {
	const idle = 10 * time.Second
	tests := []struct {
		name string
		end  func(p *Pool) // how the idle worker goes away
	}{
		{"idle timeout", func(*Pool) { time.Sleep(2*idle + time.Second) }},
		{"stop", func(p *Pool) { p.Stop() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &Pool{Idle: idle}
				ran := make(chan int, 3)
				for i := range 3 {
					p.Go(func() { ran <- i })
					if got := <-ran; got != i {
						t.Fatalf("task %d ran as %d", i, got)
					}
					synctest.Wait() // the worker is idle again
				}
				if got := workers(); got != 1 {
					t.Errorf("workers after three tasks in turn: got %d, want 1 (reused)", got)
				}
				time.Sleep(idle + time.Second)
				synctest.Wait()
				if got := workers(); got != 1 {
					t.Errorf("workers one idle period after a task: got %d, want 1", got)
				}
				tt.end(p)
				synctest.Wait()
				if got := workers(); got != 0 {
					t.Errorf("workers left: %d", got)
				}
				p.Stop()
				p.Go(func() { ran <- 9 }) // after Stop: runs, then its goroutine exits
				if got := <-ran; got != 9 {
					t.Errorf("task after Stop ran as %d", got)
				}
				p.Wait()
			})
		})
	}
}
