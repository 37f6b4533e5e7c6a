package config

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// reservedHeaders are set by the remote transports themselves
// (Streamable HTTP [T §Sending Messages], §Session Management, §Protocol
// Version Header, §Resumability) or by HTTP, so headers may not set them.
var reservedHeaders = []string{
	"Accept", "Content-Type", "Content-Length", "Host", "Connection", "Transfer-Encoding",
	"Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-Id",
	"Mcp-Method", "Mcp-Name", // 2026-07-28 request metadata [SH26 §Request Metadata]
}

// checkRemote reports the problems of a remote (http or sse) upstream's
// own settings.
func checkRemote(ps *Problems, at string, u *Upstream) {
	switch {
	case u.URL == "":
		ps.add(at+".url", "required for type %q", u.Type)
	default:
		if msg := checkUpstreamURL(u.URL); msg != "" {
			ps.add(at+".url", "%s", msg)
		}
	}
	if u.Command != "" || len(u.Args) > 0 || len(u.Env) > 0 || u.Dir != "" {
		ps.add(at, "command, args, env and dir are for stdio upstreams; type %q has a url", u.Type)
	}
	checkRemoteEra(ps, at, u) // remote_era.go
	cred := ""
	if u.Credential.Type != "" && u.Credential.Type != CredentialNone {
		cred = u.Credential.Header
		if cred == "" {
			cred = "Authorization"
		}
	}
	for _, k := range sortedKeys(u.Headers) {
		v := u.Headers[k]
		hat := at + ".headers." + k
		switch {
		case !validFieldName(k):
			ps.add(hat, "%q is not a valid header name", k)
			continue
		case isReservedHeader(k), isParamHeader(k):
			ps.add(hat, "set by the gateway itself; it cannot be configured")
		case cred != "" && strings.EqualFold(k, cred):
			ps.add(hat, "is the credential header (credential.header); the credential sets it")
		}
		if strings.HasPrefix(v, RefEnv) || strings.HasPrefix(v, RefFile) {
			checkSecretRef(ps, hat, SecretRef(v))
		} else if hasControl(v) {
			ps.add(hat, "contains a control character")
		}
	}
}

func isReservedHeader(k string) bool {
	for _, r := range reservedHeaders {
		if strings.EqualFold(k, r) {
			return true
		}
	}
	return false
}

// checkUpstreamURL checks a remote upstream's URL: absolute http or
// https, a host, no user info (a password in a URL ends up in logs and on
// screens) and no fragment. It returns "" when the URL is fine.
func checkUpstreamURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || hasControl(raw):
		return "not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "want an http:// or https:// URL"
	case u.Host == "":
		return "the URL has no host"
	case u.User != nil:
		return "must not carry user info; put credentials in headers (env:/file:) or credential"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	}
	return ""
}

// resolveHeaderSecrets reads the secret header values of enabled remote
// upstreams into HeaderSecrets (literal values are copied as they are).
func (c *Config) resolveHeaderSecrets(r SecretReader, ps *Problems) {
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		if u.Disabled || len(u.Headers) == 0 {
			continue
		}
		u.HeaderSecrets = make(map[string]secret.String, len(u.Headers))
		for _, k := range sortedKeys(u.Headers) {
			v := u.Headers[k]
			if !strings.HasPrefix(v, RefEnv) && !strings.HasPrefix(v, RefFile) {
				u.HeaderSecrets[k] = secret.New(v)
				continue
			}
			s, err := r.read(SecretRef(v))
			if err != nil {
				ps.add("upstreams["+strconv.Itoa(i)+"].headers."+k, "%v", err)
				continue
			}
			u.HeaderSecrets[k] = s
		}
	}
}

// RemoteUpstreamName is the name of the upstream of --http and --sse.
const RemoteUpstreamName = "remote"

// Remote is the configuration of `mcpgate serve --http URL` (typ TypeHTTP)
// or `--sse URL` (TypeSSE): one remote upstream, defaults elsewhere. The
// URL is checked by Validate.
func Remote(typ, url string) *Config {
	c := &Config{Upstreams: []Upstream{{Name: RemoteUpstreamName, Type: typ, URL: url}}}
	c.SetDefaults()
	return c
}

// nonEmpty counts the non-empty strings.
func nonEmpty(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}
