package config

import (
	"errors"
	"fmt"
	"strings"
)

// SplitWords splits a one-line command into words the way a POSIX shell
// splits a simple command, without running a shell and without any
// expansion (POSIX XCU §2.2 Quoting, §2.3 Token Recognition):
//
//   - blanks (space, tab) separate words;
//   - a backslash outside quotes keeps the next character literal, and a
//     backslash before a newline joins the lines; a trailing backslash is
//     literal, as in sh;
//   - single quotes keep everything up to the next single quote literal;
//   - double quotes keep everything literal except a backslash before
//     $ ` " \ or a newline;
//   - quotes may join parts of one word (a"b c"'d' is one word, "ab cd"),
//     and an empty pair of quotes alone is an empty word;
//   - a '#' starting a word begins a comment to the end of the line.
//
// What a shell would do more is refused with an error rather than passed
// on silently: parameter expansion and command substitution ($ and `
// unquoted or in double quotes), operators (| & ; < > ( ) and an unquoted
// newline), and a leading NAME=value assignment. Tilde and pathname
// expansion are not done: ~ * ? [ are literal. A NUL byte is an error.
//
// Blank input gives no words and no error.
func SplitWords(s string) ([]string, error) {
	var (
		words   []string
		word    []byte
		inWord  bool // a word has started, even if empty ("")
		nameRun = true
		// nameRun is true while the first word so far is an unquoted
		// shell name, which an unquoted '=' would turn into an assignment.
	)
	endWord := func() {
		if inWord {
			words = append(words, string(word))
			word = word[:0]
			inWord = false
		}
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return nil, fmt.Errorf("NUL byte at offset %d", i)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t':
			endWord()
		case '\n':
			return nil, fmt.Errorf("unquoted newline at offset %d: only one command is allowed", i)
		case '\\':
			switch {
			case i+1 < len(s) && s[i+1] == '\n':
				i++ // a line continuation vanishes, as if never there
			case i+1 == len(s):
				word = append(word, '\\')
				inWord, nameRun = true, false
			default:
				i++
				word = append(word, s[i])
				inWord, nameRun = true, false
			}
		case '\'':
			inWord = true
			nameRun = false
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote at offset %d", i)
			}
			word = append(word, s[i+1:i+1+end]...)
			i += 1 + end
		case '"':
			inWord = true
			nameRun = false
			var err error
			if word, i, err = appendDoubleQuoted(word, s, i); err != nil {
				return nil, err
			}
		case '|', '&', ';', '<', '>', '(', ')':
			return nil, fmt.Errorf("shell operator %q at offset %d is not supported: quote it, or use a config file", c, i)
		case '$', '`':
			return nil, expansionError(c, i)
		case '#':
			if !inWord {
				// A comment runs to the end of the line; a newline after it
				// would start another command.
				if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
					return nil, fmt.Errorf("unquoted newline at offset %d: only one command is allowed", i+j)
				}
				return words, nil
			}
			word = append(word, c)
			nameRun = false
		case '=':
			if nameRun && len(words) == 0 && len(word) > 0 {
				return nil, fmt.Errorf("environment assignment %q is not supported: use a config file with env", string(word)+"=")
			}
			nameRun = false
			inWord = true
			word = append(word, c)
		default:
			if nameRun && !isNameByte(c, len(word) == 0) {
				nameRun = false
			}
			inWord = true
			word = append(word, c)
		}
	}
	endWord()
	return words, nil
}

// appendDoubleQuoted appends the double-quoted string that starts at s[open]
// to word, returning the index of the closing quote.
func appendDoubleQuoted(word []byte, s string, open int) ([]byte, int, error) {
	for i := open + 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return word, i, nil
		case '$', '`':
			return nil, 0, expansionError(c, i)
		case '\\':
			if i+1 == len(s) {
				return nil, 0, fmt.Errorf("unterminated double quote at offset %d", open)
			}
			switch n := s[i+1]; n {
			case '$', '`', '"', '\\':
				word = append(word, n)
				i++
			case '\n':
				i++
			default:
				word = append(word, c) // the backslash stays; the next byte is read normally
			}
		default:
			word = append(word, c)
		}
	}
	return nil, 0, fmt.Errorf("unterminated double quote at offset %d", open)
}

func expansionError(c byte, i int) error {
	if c == '`' {
		return fmt.Errorf("command substitution (`) at offset %d is not supported: quote it with single quotes", i)
	}
	return fmt.Errorf("expansion ($) at offset %d is not supported: quote it with single quotes", i)
}

// isNameByte reports whether c may appear in a shell name (POSIX XBD §3.216
// Name) at the start (leading) or later.
func isNameByte(c byte, leading bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!leading && c >= '0' && c <= '9')
}

// errEmptyCommand is returned for a command line with no words.
var errEmptyCommand = errors.New("empty command")
