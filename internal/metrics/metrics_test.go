package metrics

import (
	"strings"
	"sync"
	"testing"
)

func TestCounterConcurrent(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("mcpgate_test_total", "A test.", "code", "429")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				r.Counter("mcpgate_test_total", "A test.", "code", "429").Inc()
			}
		})
	}
	wg.Wait()
	if got := c.Value(); got != 8000 {
		t.Errorf("count: got %d, want 8000", got)
	}
	var nilCounter *Counter
	nilCounter.Inc() // must not panic
	if nilCounter.Value() != 0 {
		t.Error("nil counter has a value")
	}
}

func TestWriteText(t *testing.T) {
	r := NewRegistry()
	r.Counter("mcpgate_refused_total", "Requests refused.", "reason", "rate_limit", "listener", "mcp").Add(3)
	r.Counter("mcpgate_refused_total", "Requests refused.", "listener", "mcp", "reason", "body\"size\n").Inc()
	r.GaugeFunc("mcpgate_sessions_open", "Open sessions.", func() float64 { return 7 })
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP mcpgate_refused_total Requests refused.
# TYPE mcpgate_refused_total counter
mcpgate_refused_total{listener="mcp",reason="body\"size\n"} 1
mcpgate_refused_total{listener="mcp",reason="rate_limit"} 3
# HELP mcpgate_sessions_open Open sessions.
# TYPE mcpgate_sessions_open gauge
mcpgate_sessions_open 7
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if v, ok := r.Value("mcpgate_refused_total", "reason", "rate_limit", "listener", "mcp"); !ok || v != 3 {
		t.Errorf("Value: got %v, %v", v, ok)
	}
	if _, ok := r.Value("mcpgate_nope"); ok {
		t.Error("Value of an unknown series reports ok")
	}
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func(r *Registry)
	}{
		{"bad name", func(r *Registry) { r.Counter("9bad", "") }},
		{"bad label", func(r *Registry) { r.Counter("ok", "", "bad-label", "v") }},
		{"odd labels", func(r *Registry) { r.Counter("ok", "", "code") }},
		{"kind clash", func(r *Registry) { r.Counter("x", ""); r.GaugeFunc("x", "", func() float64 { return 0 }) }},
		{"func twice", func(r *Registry) {
			r.GaugeFunc("g", "", func() float64 { return 0 })
			r.GaugeFunc("g", "", func() float64 { return 0 })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f(NewRegistry())
		})
	}
}
