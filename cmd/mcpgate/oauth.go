package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcpgate/mcpgate/internal/authserver"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/gateway"
)

const oauthUsage = `Usage:
  mcpgate oauth clients       --config FILE   list registered clients
  mcpgate oauth grants        --config FILE   list grants and remembered consents
  mcpgate oauth revoke-grant  --config FILE ID
                                              revoke a grant (its tokens stop working and its
                                              consent is forgotten) or forget a consent
  mcpgate oauth revoke-client --config FILE CLIENT_ID
                                              delete a client with its grants and consents
  mcpgate oauth gen-key                       print a new seal key (base64 of 32 random bytes)
                                              for auth.oauth.seal_key

They work on the store of auth.oauth.store in the configuration: redis
while the gateways run; a file store only while the gateway is stopped
(bbolt locks the file); the memory store lives inside the gateway and
cannot be opened. Secrets the configuration names (env:, file:) must be
readable, as for "mcpgate serve". Docs: docs/oauth.md.
`

// oauthCmd runs the operators' OAuth subcommands.
func oauthCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, oauthUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, args := args[0], args[1:]
	if sub == "gen-key" {
		k := make([]byte, 32)
		rand.Read(k)
		fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(k))
		fmt.Fprintln(stderr, "Store it where auth.oauth.seal_key points (env: or file:, mode 0600); every replica needs the same key.")
		return exitOK
	}
	fs := flag.NewFlagSet("oauth "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, oauthUsage) }
	file := fs.String("config", "", "YAML configuration file (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	wantArgs := map[string]int{"clients": 0, "grants": 0, "revoke-grant": 1, "revoke-client": 1}
	n, known := wantArgs[sub]
	if !known {
		fmt.Fprintf(stderr, "mcpgate oauth: unknown command %q\n\n%s", sub, oauthUsage)
		return exitUsage
	}
	if fs.NArg() != n || *file == "" {
		fmt.Fprint(stderr, oauthUsage)
		return exitUsage
	}
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cfg, err := config.Resolve(config.Source{ConfigFile: *file, Executable: exe})
	if err != nil {
		fmt.Fprintln(stderr, "mcpgate oauth:", err)
		return exitUsage
	}
	store, closeStore, err := gateway.OpenOAuthStore(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "mcpgate oauth: opening the store:", err)
		return exitFailure
	}
	defer closeStore()
	admin, ok := store.(authserver.AdminStore)
	if !ok {
		fmt.Fprintln(stderr, "mcpgate oauth: the store cannot list or delete")
		return exitFailure
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch sub {
	case "clients":
		err = listClients(ctx, admin, stdout)
	case "grants":
		err = listGrants(ctx, admin, stdout, time.Now())
	case "revoke-grant":
		err = authserver.RevokeGrant(ctx, store, fs.Arg(0))
	case "revoke-client":
		err = authserver.RevokeClient(ctx, admin, fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate oauth %s: %v\n", sub, err)
		return exitFailure
	}
	if strings.HasPrefix(sub, "revoke-") {
		fmt.Fprintln(stdout, "revoked", fs.Arg(0))
	}
	return exitOK
}

func listClients(ctx context.Context, a authserver.AdminStore, w io.Writer) error {
	cs, err := a.Clients(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(cs, func(x, y authserver.Client) int { return x.CreatedAt.Compare(y.CreatedAt) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT_ID\tKIND\tNAME\tCREATED\tLAST_USED\tREDIRECT_URIS")
	for _, c := range cs {
		kind := "dynamic"
		switch {
		case c.Static:
			kind = "static"
		case c.CIMD:
			kind = "cimd"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, kind, orDash(c.Name), stamp(c.CreatedAt), stamp(c.LastUsed), strings.Join(c.RedirectURIs, " "))
	}
	return tw.Flush()
}

func listGrants(ctx context.Context, a authserver.AdminStore, w io.Writer, now time.Time) error {
	gs, err := a.Grants(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(gs, func(x, y authserver.Grant) int { return x.CreatedAt.Compare(y.CreatedAt) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tCLIENT_ID\tUSER\tROLE\tSCOPES\tCREATED\tEXPIRES")
	for _, g := range gs {
		if now.After(g.ExpiresAt) {
			continue // expired, waiting for the sweep
		}
		kind := "grant"
		if g.Consent {
			kind = "consent"
		}
		user := g.Identity.Subject
		if g.Identity.Email != "" {
			user = g.Identity.Email
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, kind, g.ClientID, user, orDash(g.Identity.Role),
			strings.Join(g.Scopes, " "), stamp(g.CreatedAt), stamp(g.ExpiresAt))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
