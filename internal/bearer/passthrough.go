package bearer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// IssuerPassthrough is the Issuer of principals authenticated by
// Passthrough.
const IssuerPassthrough = "passthrough"

// PassthroughOptions configures a Passthrough.
type PassthroughOptions struct {
	// Upstream names the upstream the credential is for. Required.
	Upstream string
	// Header is the request header carrying the credential. Zero means
	// "Authorization", in the Bearer scheme; any other header's whole
	// value is the credential.
	Header string
}

// Passthrough takes the client's credential for one upstream (an API
// token of the service behind it, as in seed 000) as its identity. The
// gateway cannot check such a credential — the upstream does — so any
// well-formed one is accepted; what makes this safe is that the session is
// bound to the credential's hash, so a session can only be used with the
// credential that opened it, and that the credential goes to that
// upstream and nowhere else.
//
// The principal's Subject is a SHA-256 of the credential with a domain
// prefix and the upstream's name (so it is not the plain hash of the
// token), and its Name a short prefix of that, for logs.
type Passthrough struct {
	upstream string
	header   string // canonical; "Authorization" means the Bearer scheme
}

// NewPassthrough returns a Passthrough.
func NewPassthrough(opts PassthroughOptions) (*Passthrough, error) {
	if opts.Upstream == "" {
		return nil, errors.New("building passthrough authenticator: no upstream")
	}
	h := http.CanonicalHeaderKey(opts.Header)
	if h == "" {
		h = "Authorization"
	}
	return &Passthrough{upstream: opts.Upstream, header: h}, nil
}

func (p *Passthrough) credential(r *http.Request) (string, error) {
	if p.header == "Authorization" {
		return bearerToken(r)
	}
	return headerValue(r, p.header)
}

// Authenticate implements Authenticator.
func (p *Passthrough) Authenticate(r *http.Request) (principal.Principal, error) {
	c, err := p.credential(r)
	if err != nil {
		return principal.Principal{}, err
	}
	h := sha256.New()
	h.Write([]byte("mcpgate passthrough\x00"))
	h.Write([]byte(p.upstream))
	h.Write([]byte{0})
	h.Write([]byte(c))
	sub := hex.EncodeToString(h.Sum(nil))
	return principal.Principal{
		Issuer:  IssuerPassthrough,
		Subject: sub,
		Name:    "passthrough:" + sub[:8],
		Role:    principal.RoleUser,
	}.WithKey(), nil
}

// Credential implements CredentialSource.
func (p *Passthrough) Credential(r *http.Request) (principal.Credential, bool) {
	c, err := p.credential(r)
	if err != nil {
		return principal.Credential{}, false
	}
	return principal.Credential{Upstream: p.upstream, Value: secret.New(c)}, true
}

// Hint implements Hinter.
func (p *Passthrough) Hint() string {
	if p.header == "Authorization" {
		return "Send your " + p.upstream + " credential in the Authorization header: Authorization: Bearer <credential>."
	}
	return "Send your " + p.upstream + " credential in the " + p.header + " header."
}
