package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// File is the config file the problem is in; empty when the
	// configuration did not come from a file.
	File string
	// Line is the 1-based line in File; zero when unknown.
	Line int
	// Path locates the value: a path of YAML keys such as
	// "upstreams[1].name", or the flag ("--listen") or environment variable
	// ("$MCPGATE_LISTEN") it came from; empty for the configuration as a
	// whole.
	Path string
	// Err says what is wrong.
	Err error
}

// Error formats the problem as "file:line: path: what".
func (p *Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	if p.Err != nil {
		b.WriteString(p.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (p *Problem) Unwrap() error { return p.Err }

// Problems is every problem found in a configuration. It is the error
// Parse, Load, Validate and Resolve return for an invalid configuration, so
// that a command can print them all at once:
//
//	cfg, err := config.Resolve(src)
//	if err != nil {
//		fmt.Fprintln(os.Stderr, "mcpgate:", err) // lists every problem
//		os.Exit(2)
//	}
//
// Like an errors.Join result, it unwraps to each problem, so errors.Is and
// errors.As see through it.
type Problems []*Problem

// Error lists the problems, one per line after the first when there are
// several.
func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "invalid configuration"
	case 1:
		return "invalid configuration: " + ps[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problems):", len(ps))
	for _, p := range ps {
		b.WriteString("\n\t")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems as errors.
func (ps Problems) Unwrap() []error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errs
}

// add records a problem at path.
func (ps *Problems) add(path string, format string, args ...any) {
	*ps = append(*ps, &Problem{Path: path, Err: fmt.Errorf(format, args...)})
}

// err returns ps as an error, or nil when there are none (never a typed
// nil).
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// locate sets File on every problem, and Line on those without one from
// the line of their path (or of its nearest ancestor) in lines.
func (ps Problems) locate(file string, lines map[string]int) {
	for _, p := range ps {
		p.File = file
		if p.Line != 0 {
			continue
		}
		for path := p.Path; path != ""; path = parentPath(path) {
			if l, ok := lines[path]; ok {
				p.Line = l
				break
			}
		}
	}
}

// parentPath returns the path one level up: "a.b[2]" → "a.b" → "a" → "".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// AsProblems returns the problems in err (found with errors.As), or nil.
func AsProblems(err error) Problems {
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	return nil
}
