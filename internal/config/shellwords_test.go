package config

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var splitTests = []struct {
	name    string
	in      string
	want    []string
	wantErr string // substring of the error; "" means no error
}{
	{name: "empty", in: "", want: nil},
	{name: "blanks", in: " \t ", want: nil},
	{name: "simple", in: "npx -y server", want: []string{"npx", "-y", "server"}},
	{name: "extra blanks", in: "  a \t b  ", want: []string{"a", "b"}},
	{name: "single quotes", in: `a 'b c' d`, want: []string{"a", "b c", "d"}},
	{name: "single quotes keep backslash and dollar", in: `'a\b $HOME "x"'`, want: []string{`a\b $HOME "x"`}},
	{name: "double quotes", in: `"a b" c`, want: []string{"a b", "c"}},
	{name: "double quote escapes", in: `"a\"b\\c\$d\` + "`" + `e"`, want: []string{"a\"b\\c$d`e"}},
	{name: "double quote keeps other backslashes", in: `"a\b\n"`, want: []string{`a\b\n`}},
	{name: "double quote line continuation", in: "\"a\\\nb\"", want: []string{"ab"}},
	{name: "single quote inside double", in: `"it's"`, want: []string{"it's"}},
	{name: "double quote inside single", in: `'say "hi"'`, want: []string{`say "hi"`}},
	{name: "concatenated parts", in: `a"b c"'d'e`, want: []string{"ab cde"}},
	{name: "empty quotes are a word", in: `a "" '' b`, want: []string{"a", "", "", "b"}},
	{name: "backslash escapes blank", in: `a\ b c`, want: []string{"a b", "c"}},
	{name: "backslash escapes quote", in: `a\'b \"c`, want: []string{"a'b", `"c`}},
	{name: "backslash escapes operator", in: `a\;b \|`, want: []string{"a;b", "|"}},
	{name: "backslash backslash", in: `a\\b`, want: []string{`a\b`}},
	{name: "line continuation", in: "a\\\nb c", want: []string{"ab", "c"}},
	{name: "lone line continuation", in: "\\\n", want: nil},
	{name: "continuation inside assignment", in: "A\\\n=1 x", wantErr: `environment assignment "A=" is not supported`},
	{name: "trailing backslash is literal", in: `a\`, want: []string{`a\`}},
	{name: "comment", in: "server --flag # a comment; with | operators", want: []string{"server", "--flag"}},
	{name: "hash inside word", in: "a#b c#", want: []string{"a#b", "c#"}},
	{name: "quoted hash", in: `"#a" '#b'`, want: []string{"#a", "#b"}},
	{name: "only a comment", in: "# nothing", want: nil},
	{name: "equals in later words", in: "server --opt=1 A=B", want: []string{"server", "--opt=1", "A=B"}},
	{name: "quoted assignment is a command", in: `"A=B" x`, want: []string{"A=B", "x"}},
	{name: "equals at start", in: "=x y", want: []string{"=x", "y"}},
	{name: "digit-led name is not an assignment", in: "1A=b", want: []string{"1A=b"}},
	{name: "glob and tilde are literal", in: "ls *.go ~/x [ab]?", want: []string{"ls", "*.go", "~/x", "[ab]?"}},
	{name: "quoted operators", in: `sh -c 'a | b; c && d > e'`, want: []string{"sh", "-c", "a | b; c && d > e"}},
	{name: "utf-8", in: "écho 'héllo wörld' 日本", want: []string{"écho", "héllo wörld", "日本"}},
	{name: "carriage return is literal", in: "a\rb", want: []string{"a\rb"}},

	{name: "unterminated single quote", in: `a 'b`, wantErr: "unterminated single quote at offset 2"},
	{name: "unterminated double quote", in: `a "b`, wantErr: "unterminated double quote at offset 2"},
	{name: "unterminated double quote after backslash", in: `"b\`, wantErr: "unterminated double quote at offset 0"},
	{name: "pipe", in: "a | b", wantErr: `shell operator '|' at offset 2`},
	{name: "semicolon", in: "a;b", wantErr: `shell operator ';'`},
	{name: "and", in: "a && b", wantErr: `shell operator '&'`},
	{name: "background", in: "a &", wantErr: `shell operator '&'`},
	{name: "redirect out", in: "a > log", wantErr: `shell operator '>'`},
	{name: "redirect in", in: "a <in", wantErr: `shell operator '<'`},
	{name: "subshell", in: "(a)", wantErr: `shell operator '('`},
	{name: "unquoted newline", in: "a\nb", wantErr: "unquoted newline at offset 1"},
	{name: "newline after comment", in: "a # c\nb", wantErr: "unquoted newline at offset 5"},
	{name: "parameter expansion", in: "a $HOME", wantErr: "expansion ($) at offset 2"},
	{name: "braced expansion in double quotes", in: `a "${X}"`, wantErr: "expansion ($) at offset 3"},
	{name: "command substitution", in: "a `b`", wantErr: "command substitution (`) at offset 2"},
	{name: "command substitution in double quotes", in: "\"`b`\"", wantErr: "command substitution (`) at offset 1"},
	{name: "dollar paren", in: "a $(b)", wantErr: "expansion ($)"},
	{name: "assignment", in: "API_KEY=x server", wantErr: `environment assignment "API_KEY=" is not supported`},
	{name: "assignment after blanks", in: "  A=1 server", wantErr: `environment assignment "A=" is not supported`},
	{name: "NUL", in: "a\x00b", wantErr: "NUL byte at offset 1"},
	{name: "NUL in single quotes", in: "'a\x00'", wantErr: "NUL byte at offset 2"},
	{name: "NUL in double quotes", in: "\"a\x00\"", wantErr: "NUL byte at offset 2"},
	{name: "escaped NUL", in: "a\\\x00", wantErr: "NUL byte at offset 2"},
}

func TestSplitWords(t *testing.T) {
	for _, tt := range splitTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitWords(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SplitWords(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("SplitWords(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("SplitWords(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestSplitWordsMatchesShell runs every accepted table input through a
// real POSIX shell and checks that it splits the same way.
func TestSplitWordsMatchesShell(t *testing.T) {
	sh := lookShell(t)
	dir := t.TempDir()
	for _, tt := range splitTests {
		if tt.wantErr != "" || !comparableWithShell(tt.in) {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			want, err := shellSplit(sh, dir, tt.in)
			if err != nil {
				t.Fatalf("sh: %v", err)
			}
			got, _ := SplitWords(tt.in)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("SplitWords(%q) differs from sh (-sh +got):\n%s", tt.in, diff)
			}
		})
	}
}

func FuzzSplitWords(f *testing.F) {
	for _, tt := range splitTests {
		f.Add(tt.in)
	}
	sh, _ := exec.LookPath("sh")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in string) {
		words, err := SplitWords(in)
		if err != nil {
			return
		}
		for _, w := range words {
			if strings.IndexByte(w, 0) >= 0 {
				t.Fatalf("SplitWords(%q) = %q: a word holds a NUL byte", in, words)
			}
		}
		// Quoting the words and splitting again gives them back.
		again, err := SplitWords(quoteWords(words))
		if err != nil {
			t.Fatalf("SplitWords(quoteWords(%q)): %v", words, err)
		}
		if diff := cmp.Diff(words, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip of %q (-first +again):\n%s", in, diff)
		}
		// A real shell agrees.
		if sh != "" && comparableWithShell(in) {
			want, err := shellSplit(sh, dir, in)
			if err != nil {
				t.Fatalf("sh on %q: %v", in, err)
			}
			if diff := cmp.Diff(want, words, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("SplitWords(%q) differs from sh (-sh +got):\n%s", in, diff)
			}
		}
	})
}

// quoteWords joins words into a command line, single-quoting each.
func quoteWords(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

// comparableWithShell reports whether sh would split in the same way as
// SplitWords intends: no tilde or pathname expansion characters (sh expands
// them, SplitWords keeps them literal), and nothing sh treats as a reserved
// word or redirection in argument position.
func comparableWithShell(in string) bool {
	return !strings.ContainsAny(in, "~*?[!{}")
}

func lookShell(t *testing.T) string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh in PATH")
	}
	return sh
}

// shellSplit asks sh how it splits in: it prints each word of
// `printf '%s\0' MARK <in>` NUL-terminated, in an empty directory with an
// empty environment.
func shellSplit(sh, dir, in string) ([]string, error) {
	cmd := exec.Command(sh, "-c", `printf '%s\0' MARK `+in)
	cmd.Dir = dir
	cmd.Env = []string{}
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	parts := bytes.Split(out, []byte{0})
	if len(parts) < 2 || string(parts[0]) != "MARK" {
		return nil, fmt.Errorf("unexpected shell output %q", out)
	}
	words := make([]string, 0, len(parts)-2)
	for _, p := range parts[1 : len(parts)-1] {
		words = append(words, string(p))
	}
	return words, nil
}
