package config

import (
	"strings"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// DefaultAdminListen is the admin listener's address when admin.token is
// set and admin.listen is not.
const DefaultAdminListen = "127.0.0.1:8081"

// Admin configures the admin listener: JSON endpoints for operators (stats
// of the open sessions, broadcast of a notification to them), on an
// address of its own, each request authenticated by the admin token. It is
// off unless Token is set.
type Admin struct {
	// Listen is the admin listener's address, host:port. Zero means
	// DefaultAdminListen (loopback only) when Token is set. It must differ
	// from the MCP listener's.
	Listen string `yaml:"listen,omitempty"`
	// Token authenticates admin requests (Authorization: Bearer <token>).
	// The token itself never appears in the configuration:
	// "sha256:<64 hex digits>" (`mcpgate hash-token` prints it) or
	// "env:NAME", an environment variable holding the token (or its
	// "sha256:…" digest). Zero means the admin listener is off.
	Token SecretRef `yaml:"token,omitempty"`
	// PProf mounts net/http/pprof's handlers under /debug/pprof/ on the
	// admin listener, behind the admin token (never on the MCP listener).
	// Zero (false) means no profiling endpoints.
	PProf bool `yaml:"pprof,omitempty"`
	// Digest is the token's digest, set by Resolve (from Token, reading the
	// environment for "env:"). Not configurable.
	Digest secret.Digest `yaml:"-"`
}

// Enabled reports whether the admin listener is on.
func (a *Admin) Enabled() bool { return a.Token != "" }

// setAdminDefaults fills the admin settings' zero values.
func (c *Config) setAdminDefaults() {
	if c.Admin.Enabled() {
		setDefault(&c.Admin.Listen, DefaultAdminListen)
	}
}

// validateAdmin checks the admin settings.
func (c *Config) validateAdmin(ps *Problems) {
	a := &c.Admin
	if a.Listen != "" {
		if err := checkListen(a.Listen); err != nil {
			ps.add("admin.listen", "%v", err)
		} else if a.Listen == c.Listen || a.Listen == DefaultListen && c.Listen == "" {
			ps.add("admin.listen", "%q is the MCP listener's address; the admin listener needs its own", a.Listen)
		}
		if !a.Enabled() {
			ps.add("admin.listen", `set, but admin.token is not: the admin listener needs a token ("sha256:<hex>" from mcpgate hash-token, or "env:NAME")`)
		}
	}
	if a.PProf && !a.Enabled() {
		ps.add("admin.pprof", "set, but admin.token is not: profiling is served only on the admin listener, which needs a token")
	}
	h := string(a.Token)
	switch {
	case h == "":
	case strings.HasPrefix(h, RefSHA256):
		if _, err := secret.ParseDigest(h); err != nil {
			ps.add("admin.token", "%v", err)
		}
		for i, t := range c.Auth.Tokens {
			if strings.EqualFold(string(t.Hash), h) {
				ps.add("admin.token", "the same token as auth.tokens[%d]; the admin token must be a token of its own", i)
			}
		}
	case strings.HasPrefix(h, RefEnv):
		if !validEnvName(h[len(RefEnv):]) {
			ps.add("admin.token", "%q: not a valid environment variable name", h)
		}
	default:
		ps.add("admin.token", `want "sha256:<64 hex digits>" (run mcpgate hash-token) or "env:NAME"; tokens are never written in the configuration`)
	}
}

// resolveAdminSecret sets Admin.Digest from Admin.Token.
func (c *Config) resolveAdminSecret(r SecretReader, ps *Problems) {
	if !c.Admin.Enabled() {
		return
	}
	d, err := resolveDigest(r, c.Admin.Token)
	if err != nil {
		ps.add("admin.token", "%v", err)
		return
	}
	c.Admin.Digest = d
}
