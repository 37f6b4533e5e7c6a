package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// Deployments are mcpgate set up as real deployments run it, in front of
// the stdio floor, so that what authentication and routing cost shows next
// to the plain "mcpgate → stdio floor" row:
//
//   - gw-floor-auth: auth.mode static with one bearer token, made at random
//     for each suite run (only its digest is written to the configuration)
//     and sent by the load client on every request. Every request is then
//     authenticated (a SHA-256 and a constant-time compare) and counted by
//     the per-user rate limiter, whose limit is set far above what the run
//     can reach: the check runs, it never refuses.
//   - gw-floor-ns: three upstreams a, b and c behind one endpoint, each its
//     own stdio floor process; the load calls b's echo tool by its
//     namespaced name (b__echo, namespace.separator's default), so every
//     call is routed by name to one of three upstreams.
//
// They are started with the other servers before the first pass and their
// rows are measured in the passes like the others; a gateway that fails to
// start makes its row n/a rather than failing the suite.

// Deployment row keys.
const (
	rowAuth       = "gw-floor-auth"
	rowNamespaced = "gw-floor-ns"
)

// benchUser is the user the suite's bearer token stands for.
const benchUser = "bench"

// nsUpstreams are the namespaced gateway's upstreams, and nsCall the one
// whose tool the load calls.
var (
	nsUpstreams = []string{"a", "b", "c"}
	nsCall      = toolCall{Name: "b__" + defaultCall.Name, Arguments: defaultCall.Arguments}
)

// benchRequestsPerMinute is the auth gateway's per-user rate limit: far
// above any rate this machine reaches, so that the limiter runs on every
// request but never refuses one.
const benchRequestsPerMinute = 1_000_000_000

// deployments holds the deployment gateways started for a suite run.
type deployments struct {
	auth, ns     *child
	token        string // the auth gateway's bearer token; never printed
	authNA, nsNA string // why a row is not measured; "" when it runs
}

// newBenchToken returns a fresh random bearer token (256 bits from
// crypto/rand, secret.NewToken) and its digest as auth.tokens[].hash takes
// it, "sha256:<64 hex digits>".
func newBenchToken() (token, digest string, err error) {
	token = secret.NewToken()
	if digest, err = secret.HashToken(token); err != nil {
		return "", "", fmt.Errorf("hashing the bench token: %w", err)
	}
	return token, digest, nil
}

// authYAML is the auth and limits configuration of one static token,
// given by its digest.
func authYAML(digest string) string {
	return fmt.Sprintf("auth:\n  mode: static\n  tokens:\n    - user: %s\n      hash: %s\nlimits:\n  requests_per_minute: %d\n",
		benchUser, strconv.Quote(digest), benchRequestsPerMinute)
}

// startDeployments starts both deployment gateways in front of the stdio
// floor (floorCmd).
func startDeployments(ctx context.Context, o suiteOptions, dir string, floorCmd []string, progress io.Writer) *deployments {
	d := &deployments{}
	token, digest, err := newBenchToken()
	if err == nil {
		d.token = token
		d.auth, err = startGatewayWith(ctx, o.mcpgate, dir, "mcpgate-floor-auth",
			[]gatewayUpstream{{name: "bench", argv: floorCmd}}, authYAML(digest))
	}
	if err != nil {
		fmt.Fprintf(progress, "warning: %v\n", err)
		d.authNA = "n/a (mcpgate with auth.mode static did not start: see the warning above)"
	}
	ups := make([]gatewayUpstream, len(nsUpstreams))
	for i, name := range nsUpstreams {
		ups[i] = gatewayUpstream{name: name, argv: floorCmd}
	}
	if d.ns, err = startGatewayWith(ctx, o.mcpgate, dir, "mcpgate-floor-ns", ups, ""); err != nil {
		fmt.Fprintf(progress, "warning: %v\n", err)
		d.nsNA = "n/a (mcpgate with three upstreams did not start: see the warning above)"
	}
	return d
}

// stop stops both gateways; a nil d or a gateway that did not start is
// skipped.
func (d *deployments) stop() {
	if d == nil {
		return
	}
	d.auth.stop()
	d.ns.stop()
}

// row returns the row rowAuth or rowNamespaced, at concurrency c.
func (d *deployments) row(key string, c int) *row {
	r := &row{key: key, direct: "floor-stdio", na: "n/a (not started)"}
	switch key {
	case rowAuth:
		r.label = "mcpgate → stdio floor, bearer token (auth.mode static)"
	case rowNamespaced:
		r.label = "mcpgate → three stdio floors (namespaced)"
	default:
		panic("no deployment row " + key)
	}
	if d == nil {
		return r
	}
	t := target{Transport: transportStreamable}
	var ch *child
	switch key {
	case rowAuth:
		ch, r.na = d.auth, d.authNA
		t.Header = http.Header{"Authorization": {"Bearer " + d.token}}
	case rowNamespaced:
		ch, r.na = d.ns, d.nsNA
		t.Call = nsCall
	}
	if r.na == "" && ch != nil {
		t.URL = ch.url
		r.run = loadRun(t, c, ch.pid()) // peers.go
	}
	return r
}
