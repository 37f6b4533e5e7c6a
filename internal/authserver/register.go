package authserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// maxRegistrationBytes bounds a registration request's body.
const maxRegistrationBytes = 16 << 10

// maxRedirectURIs bounds the redirect URIs of one client.
const maxRedirectURIs = 10

// registration is the RFC 7591 §2 metadata mcpgate reads.
type registration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ApplicationType         string   `json:"application_type,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

// registered is the RFC 7591 §3.2.1 response.
type registered struct {
	registration
	ClientID              string `json:"client_id"`
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
}

func invalidMetadata(desc string) *Error {
	return oauthErr(http.StatusBadRequest, "invalid_client_metadata", desc)
}

// serveRegister is dynamic client registration (RFC 7591 §3).
func (s *Server) serveRegister(w http.ResponseWriter, r *http.Request) {
	s.maybeSweep(r.Context())
	// Registration is unauthenticated: bound it per client address.
	if err := s.allow(r.Context(), s.registerLimit, "register", clientIP(r)); err != nil {
		writeRateLimited(w, err.(errRateLimited), "too many registrations from this address; retry later")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRegistrationBytes+1))
	if err != nil || len(body) > maxRegistrationBytes {
		writeError(w, invalidMetadata("the registration request is unreadable or too large"))
		return
	}
	var reg registration
	if err := json.Unmarshal(body, &reg); err != nil {
		writeError(w, invalidMetadata("the registration request is not a JSON object"))
		return
	}
	c, e := s.checkRegistration(&reg)
	if e != nil {
		writeError(w, e)
		return
	}
	resp := registered{registration: reg, ClientID: c.ID, ClientIDIssuedAt: c.CreatedAt.Unix()}
	if c.AuthMethod != "none" {
		sec := randomValue()
		c.SecretHash, _ = secret.HashToken(sec)
		resp.ClientSecret = sec
		var never int64
		resp.ClientSecretExpiresAt = &never
	}
	if err := s.store.PutClient(r.Context(), c); err != nil {
		s.log.ErrorContext(r.Context(), "registering client", "err", err)
		writeError(w, errServer)
		return
	}
	s.log.InfoContext(r.Context(), "client registered", "client_id", c.ID, "client_name", c.Name)
	writeJSON(w, http.StatusCreated, resp)
}

// checkRegistration validates reg, fills its defaults and returns the
// client to store.
func (s *Server) checkRegistration(reg *registration) (Client, *Error) {
	if len(reg.RedirectURIs) == 0 || len(reg.RedirectURIs) > maxRedirectURIs {
		return Client{}, oauthErr(http.StatusBadRequest, "invalid_redirect_uri", fmt.Sprintf("between 1 and %d redirect_uris are required", maxRedirectURIs))
	}
	for _, u := range reg.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return Client{}, oauthErr(http.StatusBadRequest, "invalid_redirect_uri", err.Error())
		}
	}
	setDefault(&reg.TokenEndpointAuthMethod, "client_secret_basic")
	if !slices.Contains(authMethods, reg.TokenEndpointAuthMethod) {
		return Client{}, invalidMetadata("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
	}
	if len(reg.GrantTypes) == 0 {
		reg.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	for _, g := range reg.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return Client{}, invalidMetadata("grant_types may hold authorization_code and refresh_token only")
		}
	}
	if len(reg.ResponseTypes) == 0 {
		reg.ResponseTypes = []string{"code"}
	}
	if len(reg.ResponseTypes) != 1 || reg.ResponseTypes[0] != "code" {
		return Client{}, invalidMetadata("response_types must be [\"code\"]")
	}
	// application_type (OIDC DCR §2, required of 2026-07-28 clients): a
	// native client redirects to loopback or a private scheme; a web
	// client to https. Absent, it follows from the redirect URIs.
	native := true
	for _, u := range reg.RedirectURIs {
		if strings.HasPrefix(u, "https://") && !isLoopbackURL(u) {
			native = false
		}
	}
	switch reg.ApplicationType {
	case "":
		reg.ApplicationType = "web"
		if native {
			reg.ApplicationType = "native"
		}
	case "web", "native":
	default:
		return Client{}, invalidMetadata("application_type must be web or native")
	}
	if len(reg.ClientName) > 200 {
		return Client{}, invalidMetadata("client_name is longer than 200 characters")
	}
	return Client{
		ID:              randomValue()[:22],
		Name:            reg.ClientName,
		RedirectURIs:    reg.RedirectURIs,
		ApplicationType: reg.ApplicationType,
		AuthMethod:      reg.TokenEndpointAuthMethod,
		CreatedAt:       s.o.Now(),
		LastUsed:        s.o.Now(), // ClientIdleTTL counts from registration
	}, nil
}

// checkRedirectURI accepts an absolute https URL, or http on a loopback
// address ([A §Communication Security]; OAuth 2.1 §7.5.1, RFC 8252 §7.3),
// without a fragment (RFC 6749 §3.1.2) or user info.
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return errors.New("redirect URI must be an absolute URL")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return errors.New("redirect URI must not have a fragment")
	case u.User != nil:
		return errors.New("redirect URI must not have user info")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
		return nil
	}
	return errors.New("redirect URI must be https, or http on a loopback address")
}

func isLoopbackURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && isLoopbackHost(u.Hostname())
}

// isLoopbackHost reports whether host is localhost or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
