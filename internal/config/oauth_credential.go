package config

// CredentialOAuth is the upstream credential type whose value is the
// calling user's own access token at auth.oauth's upstream identity
// provider, refreshed when near expiry (auth mode oauth only). For an
// upstream that trusts the same provider: it sees the user's token, never
// the client's gateway token.
const CredentialOAuth = "oauth"

// validateOAuthCredential checks an upstream with credential type oauth:
// auth mode oauth, and one process or connection per user (each user's
// token is their own).
func (c *Config) validateOAuthCredential(ps *Problems, at string, u *Upstream) {
	if c.Auth.Mode != AuthOAuth {
		ps.add(at+".type", "%q needs auth.mode %q: the token is the user's at auth.oauth.upstream", CredentialOAuth, AuthOAuth)
	}
	if !u.PerUser {
		ps.add(at+".type", "%q gives each user their own token, so the upstream needs per_user: true", CredentialOAuth)
	}
}
