package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// hashToken prints the digest that auth.tokens[].hash takes: of a token
// read from stdin (one line), or of a new random token (--new), which it
// prints too. The token is read from stdin, never from the command line,
// so that it stays out of shell history and the process list.
func hashToken(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hash-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  mcpgate hash-token < token-file     print the token's digest, sha256:<hex>
  mcpgate hash-token --new            make a new token; print it and its digest

Put the digest in the configuration (auth.tokens[].hash) and give the token
to the client, which sends it as "Authorization: Bearer <token>". The
gateway stores only the digest.
`)
	}
	newToken := fs.Bool("new", false, "make a new random token and print it with its digest")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "mcpgate hash-token: the token is read from stdin, not from arguments (they show in the process list)")
		return exitUsage
	}
	if *newToken {
		tok := secret.NewToken()
		h, err := secret.HashToken(tok)
		if err != nil {
			fmt.Fprintln(stderr, "mcpgate hash-token:", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "token: %s\nhash:  %s\n", tok, h)
		fmt.Fprintln(stderr, "Give the token to the client; put the hash in auth.tokens[].hash. The token is not stored anywhere.")
		return exitOK
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, secret.MaxTokenLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(stderr, "mcpgate hash-token: reading stdin:", err)
		return exitFailure
	}
	tok := strings.TrimRight(line, "\r\n")
	h, err := secret.HashToken(tok)
	if err != nil {
		fmt.Fprintln(stderr, "mcpgate hash-token:", err)
		return exitUsage
	}
	fmt.Fprintln(stdout, h)
	return exitOK
}
