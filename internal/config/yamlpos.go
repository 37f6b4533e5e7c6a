package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// positions is what a walk of the YAML node tree, beside the typed decode,
// learns: the line of every path, and the keys that name no field.
type positions struct {
	lines   map[string]int // path → line of its key (or sequence item)
	values  map[int]string // line → deepest path whose value starts there
	unknown Problems       // one per unknown key, with line and path
}

var configType = reflect.TypeFor[Config]()

// maxWalkDepth stops a walk that aliases could otherwise make long; the
// Config type is far shallower.
const maxWalkDepth = 16

// locateNodes walks doc against the Config type.
func locateNodes(doc *yaml.Node) positions {
	pos := positions{lines: make(map[string]int), values: make(map[int]string)}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		pos.walk(doc.Content[0], configType, "", 0)
	}
	return pos
}

func (pos *positions) walk(n *yaml.Node, t reflect.Type, path string, depth int) {
	if depth > maxWalkDepth {
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				pos.walkMerge(v, t, path, depth+1)
				continue
			}
			f, ok := fields[k.Value]
			if !ok {
				pos.unknown = append(pos.unknown, &Problem{
					Line: k.Line,
					Path: joinPath(path, k.Value),
					Err:  unknownKey(k.Value, fields),
				})
				continue
			}
			p := joinPath(path, k.Value)
			pos.lines[p] = k.Line
			pos.valueAt(v.Line, p)
			pos.walk(v, f.Type, p, depth+1)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			pos.lines[p] = item.Line
			pos.valueAt(item.Line, p)
			pos.walk(item, t.Elem(), p, depth+1)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := joinPath(path, n.Content[i].Value)
			pos.lines[p] = n.Content[i].Line
			pos.valueAt(n.Content[i+1].Line, p)
		}
	}
}

// walkMerge walks the value of a "<<" merge key: a mapping or a sequence
// of mappings, each merged into the struct at path.
func (pos *positions) walkMerge(v *yaml.Node, t reflect.Type, path string, depth int) {
	if v.Kind == yaml.SequenceNode {
		for _, m := range v.Content {
			pos.walk(m, t, path, depth+1)
		}
		return
	}
	pos.walk(v, t, path, depth)
}

// yamlFields maps the YAML keys of struct type t to its fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := make(map[string]reflect.StructField, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f
	}
	return fields
}

// unknownKey describes an unknown key, suggesting the closest known one.
func unknownKey(key string, fields map[string]reflect.StructField) error {
	best, bestDist := "", len(key)/3+2
	for name := range fields {
		if d := keyDistance(key, name); d < bestDist || (d == bestDist && name < best) {
			best, bestDist = name, d
		}
	}
	if best == "" {
		// A shortened or lengthened key: "max_body" for "max_body_bytes".
		nk := normKey(key)
		for name := range fields {
			nn := normKey(name)
			if len(nk) >= 3 && len(nn) >= 3 && (strings.HasPrefix(nn, nk) || strings.HasPrefix(nk, nn)) && (best == "" || name < best) {
				best = name
			}
		}
	}
	if best != "" {
		return fmt.Errorf("unknown key %q (did you mean %q?)", key, best)
	}
	return fmt.Errorf("unknown key %q", key)
}

// keyDistance is the edit distance between two keys, ignoring case and the
// difference between snake_case, kebab-case and camelCase.
func keyDistance(a, b string) int {
	a, b = normKey(a), normKey(b)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// normKey lowercases a key and drops '_' and '-'.
func normKey(s string) string {
	return keyNormalizer.Replace(strings.ToLower(s))
}

var keyNormalizer = strings.NewReplacer("_", "", "-", "")

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// valueAt records that the value at path starts on line, unless a deeper
// path's value already does.
func (pos *positions) valueAt(line int, path string) {
	if old, ok := pos.values[line]; !ok || len(path) > len(old) {
		pos.values[line] = path
	}
}

// pathAtLine returns the deepest path whose value starts on line, which is
// the line the YAML decoder reports a type error at; "" if none.
func (pos *positions) pathAtLine(line int) string {
	return pos.values[line]
}
