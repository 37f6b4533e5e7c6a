// Package metrics counts what the gateway does and refuses — requests
// refused by each limit, authentication failures, errors by code — in
// lock-free atomic counters, and renders them in the Prometheus text format
// for the admin listener to serve.
//
// It is a stand-in with no dependency: the plan is
// github.com/prometheus/client_golang, and the names and labels here are
// chosen so that the switch changes no dashboard. A Registry is passed in
// through constructors (never a global); a nil *Counter counts nothing, so
// components work without one.
package metrics

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Counter is a monotonically increasing count. Its methods are safe for
// concurrent use, and do nothing on a nil *Counter.
type Counter struct {
	v atomic.Uint64
}

// Inc adds one.
func (c *Counter) Inc() {
	if c != nil {
		c.v.Add(1)
	}
}

// Add adds n.
func (c *Counter) Add(n uint64) {
	if c != nil {
		c.v.Add(n)
	}
}

// Value returns the count (zero for a nil Counter).
func (c *Counter) Value() uint64 {
	if c == nil {
		return 0
	}
	return c.v.Load()
}

// Kind is the Prometheus metric type of a family.
type Kind string

// Kinds.
const (
	KindCounter Kind = "counter"
	KindGauge   Kind = "gauge"
)

// Label is one name="value" pair of a series.
type Label struct{ Name, Value string }

// Sample is one series' value at the time of a Snapshot.
type Sample struct {
	Name   string
	Help   string
	Kind   Kind
	Labels []Label
	Value  float64
}

// series is one registered series.
type series struct {
	labels  []Label
	key     string // labels rendered, for ordering and deduplication
	counter *Counter
	fn      func() float64
}

// family is every series of one metric name.
type family struct {
	help   string
	kind   Kind
	series map[string]*series
}

// Registry holds metric families. The zero value is not usable; call
// NewRegistry.
type Registry struct {
	mu       sync.Mutex // guards families; counters themselves are atomic
	families map[string]*family
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{families: make(map[string]*family)}
}

// Counter returns the counter of name with the given labels (name, value,
// name, value…), creating it on first use; the same name and labels always
// give the same Counter. Look counters up once, at construction, not per
// request. It panics on an invalid metric or label name, an odd number of
// label strings, or a name already registered with another kind: those are
// programming errors.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	s := r.register(name, help, KindCounter, labels, nil)
	return s.counter
}

// CounterFunc registers a counter whose value f reports (for counts kept
// elsewhere, such as session.Manager's). f must be safe for concurrent use
// and must not call the Registry.
func (r *Registry) CounterFunc(name, help string, f func() float64, labels ...string) {
	r.register(name, help, KindCounter, labels, f)
}

// GaugeFunc registers a gauge whose value f reports (open sessions, say).
func (r *Registry) GaugeFunc(name, help string, f func() float64, labels ...string) {
	r.register(name, help, KindGauge, labels, f)
}

func (r *Registry) register(name, help string, kind Kind, kv []string, fn func() float64) *series {
	if !validName(name, true) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	if len(kv)%2 != 0 {
		panic(fmt.Sprintf("metrics: %s: odd number of label strings", name))
	}
	labels := make([]Label, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		if !validName(kv[i], false) || strings.HasPrefix(kv[i], "__") {
			panic(fmt.Sprintf("metrics: %s: invalid label name %q", name, kv[i]))
		}
		labels = append(labels, Label{kv[i], kv[i+1]})
	}
	slices.SortFunc(labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	key := renderLabels(labels)

	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.families[name]
	if f == nil {
		f = &family{help: help, kind: kind, series: make(map[string]*series)}
		r.families[name] = f
	}
	if f.kind != kind {
		panic(fmt.Sprintf("metrics: %s registered as %s and %s", name, f.kind, kind))
	}
	if s := f.series[key]; s != nil {
		if fn != nil || s.fn != nil {
			panic(fmt.Sprintf("metrics: %s%s registered twice", name, key))
		}
		return s
	}
	s := &series{labels: labels, key: key, fn: fn}
	if fn == nil {
		s.counter = new(Counter)
	}
	f.series[key] = s
	return s
}

// Snapshot returns every series' current value, ordered by name and then
// labels.
func (r *Registry) Snapshot() []Sample {
	type entry struct {
		name string
		f    *family
		ss   []*series
	}
	r.mu.Lock()
	entries := make([]entry, 0, len(r.families))
	for name, f := range r.families {
		ss := make([]*series, 0, len(f.series))
		for _, s := range f.series {
			ss = append(ss, s)
		}
		entries = append(entries, entry{name, f, ss})
	}
	r.mu.Unlock()
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	var out []Sample
	for _, e := range entries {
		slices.SortFunc(e.ss, func(a, b *series) int { return strings.Compare(a.key, b.key) })
		for _, s := range e.ss {
			v := float64(s.counter.Value())
			if s.fn != nil {
				v = s.fn() // outside the lock: f may be slow
			}
			out = append(out, Sample{Name: e.name, Help: e.f.help, Kind: e.f.kind, Labels: s.labels, Value: v})
		}
	}
	return out
}

// Value returns the current value of one series, and whether it exists.
// Tests and the admin page use it.
func (r *Registry) Value(name string, labels ...string) (float64, bool) {
	kv := make([]Label, 0, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		kv = append(kv, Label{labels[i], labels[i+1]})
	}
	slices.SortFunc(kv, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	key := renderLabels(kv)
	r.mu.Lock()
	f := r.families[name]
	var s *series
	if f != nil {
		s = f.series[key]
	}
	r.mu.Unlock()
	switch {
	case s == nil:
		return 0, false
	case s.fn != nil:
		return s.fn(), true
	}
	return float64(s.counter.Value()), true
}

// WriteText writes every metric in the Prometheus text exposition format
// (version 0.0.4), the body of a /metrics response with Content-Type
// "text/plain; version=0.0.4".
func (r *Registry) WriteText(w io.Writer) error {
	var b strings.Builder
	last := ""
	for _, s := range r.Snapshot() {
		if s.Name != last {
			last = s.Name
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", s.Name, escapeHelp(s.Help), s.Name, s.Kind)
		}
		b.WriteString(s.Name)
		b.WriteString(renderLabels(s.Labels))
		b.WriteByte(' ')
		b.WriteString(formatValue(s.Value))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func renderLabels(labels []Label) string {
	if len(labels) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(escapeLabel(l.Value))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// validName reports whether s is a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)
// or, without colons, a label name.
func validName(s string, colon bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || colon && c == ':' || i > 0 && c >= '0' && c <= '9'
		if !ok {
			return false
		}
	}
	return true
}
