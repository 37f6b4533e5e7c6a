package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Parse decodes a YAML configuration strictly: an unknown key, a duplicate
// key, a value of the wrong type (a duration without a unit, say) or a
// second YAML document is an error. The error is Problems, each with the
// line and path of the offending key; file names the source in them.
//
// Parse applies no defaults, environment or validation: the result is the
// file as written. An empty document is an empty Config.
func Parse(data []byte, file string) (*Config, error) {
	c, _, err := parse(data, file)
	return c, err
}

// Load reads the YAML file at path with Parse, sets its defaults and
// validates it. It does not consult the environment; Resolve does. Errors
// are Problems, or an error wrapping the file system's when the file
// cannot be read.
func Load(path string) (*Config, error) {
	c, lines, err := load(path)
	if err != nil {
		return nil, err
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		ps := err.(Problems)
		ps.locate(path, lines)
		return nil, ps
	}
	return c, nil
}

func load(path string) (*Config, map[string]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading config file: %w", err)
	}
	return parse(data, path)
}

// parse is Parse that also returns the line of every path, for locating
// later validation problems.
func parse(data []byte, file string) (*Config, map[string]int, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&c)
	if errors.Is(err, io.EOF) {
		return &c, nil, nil
	}
	var typeErr *yaml.TypeError
	if err != nil && !errors.As(err, &typeErr) {
		// A syntax error: there is no node tree to walk.
		ps := Problems{syntaxProblem(err)}
		ps.locate(file, nil)
		return nil, nil, ps
	}

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		ps := Problems{syntaxProblem(err)}
		ps.locate(file, nil)
		return nil, nil, ps
	}
	pos := locateNodes(&doc)
	ps := pos.unknown
	if typeErr != nil {
		walked := make(map[int]bool, len(ps))
		for _, p := range ps {
			walked[p.Line] = true
		}
		for _, msg := range typeErr.Errors {
			line, msg := splitLine(msg)
			if walked[line] && strings.HasPrefix(msg, "field ") && strings.Contains(msg, " not found in type ") {
				continue // reported by the walk, with a path and a suggestion
			}
			ps = append(ps, &Problem{Line: line, Path: pos.pathAtLine(line), Err: errors.New(friendlyTypeError(msg))})
		}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		ps = append(ps, &Problem{Line: extra.Line, Err: errors.New("more than one YAML document; a config file holds one")})
	}
	if len(ps) > 0 {
		slices.SortStableFunc(ps, func(a, b *Problem) int { return a.Line - b.Line })
		ps.locate(file, pos.lines)
		return nil, nil, ps
	}
	return &c, pos.lines, nil
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// splitLine splits "line 3: what" into 3 and "what".
func splitLine(msg string) (int, string) {
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "yaml: ")
	}
	n, _ := strconv.Atoi(m[1])
	return n, m[2]
}

func syntaxProblem(err error) *Problem {
	line, msg := splitLine(err.Error())
	return &Problem{Line: line, Err: fmt.Errorf("invalid YAML: %s", msg)}
}

var unmarshalRE = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")

// friendlyTypeError rewrites the YAML decoder's "cannot unmarshal !!str
// `30x` into time.Duration" into what the reader should write instead.
func friendlyTypeError(msg string) string {
	m := unmarshalRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got := m[1]
	switch {
	case m[2] != "":
		got = strconv.Quote(m[2])
	case got == "seq":
		got = "a list"
	case got == "map":
		got = "a mapping"
	}
	var want string
	switch typ := m[3]; {
	case typ == "time.Duration":
		want = `a duration with a unit, such as "500ms", "30s" or "15m"`
	case typ == "int" || typ == "int64":
		want = "a whole number"
	case typ == "bool":
		want = "true or false"
	case typ == "string":
		want = "a string"
	case strings.HasPrefix(typ, "[]"), typ == "config.Origins":
		want = "a list"
	case strings.HasPrefix(typ, "map[") || strings.HasPrefix(typ, "config."):
		want = "a mapping of keys to values"
	default:
		return msg
	}
	return "want " + want + ", got " + got
}
