package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcpgate/mcpgate/internal/authserver"
	"github.com/mcpgate/mcpgate/internal/authserver/filestore"
	"github.com/mcpgate/mcpgate/internal/bearer"
	"github.com/mcpgate/mcpgate/internal/config"
	redisstore "github.com/mcpgate/mcpgate/internal/store/redis"
)

// oauthServer is the gateway's OAuth authorization server (auth mode
// oauth, docs/oauth.md) and the store it owns.
type oauthServer struct {
	*authserver.Server
	store      authserver.Store
	toolScopes *authserver.ToolScopes // auth.oauth.tool_scopes
	close      func() error           // closes the store
}

// newOAuth builds the authorization server of cfg.Auth.OAuth and the
// resource server's authenticator that checks its tokens.
func newOAuth(cfg *config.Config, log *slog.Logger) (*oauthServer, bearer.Authenticator, error) {
	o := cfg.Auth.OAuth
	store, key, closeStore, err := openOAuthStore(o)
	if err != nil {
		return nil, nil, err
	}
	clients := make([]authserver.StaticClient, len(o.Clients))
	for i, c := range o.Clients {
		clients[i] = authserver.StaticClient{ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs, SecretHash: string(c.SecretHash)}
	}
	as, err := authserver.New(context.Background(), authserver.Options{
		Issuer: o.Issuer,
		Scopes: o.Scopes,
		Upstream: authserver.Upstream{Issuer: o.Upstream.Issuer, ClientID: o.Upstream.ClientID,
			ClientSecret: o.Upstream.Secret, Scopes: o.Upstream.Scopes, Prompt: o.Upstream.Prompt,
			AuthParams: o.Upstream.AuthParams},
		Clients: clients,
		CIMD: authserver.CIMDOptions{Disabled: o.CIMD.Disabled,
			InsecureAllowPrivateNetworks: o.CIMD.InsecureAllowPrivateNetworks},
		CIMDFetchesPerMinute: o.CIMD.FetchesPerMinute,
		RegisterPerMinute:    o.RegisterPerMinute,
		ConsentTTL:           o.ConsentTTL,
		ClientIdleTTL:        o.DynamicClientIdleTTL,
		Roles:                o.Roles,
		DefaultRole:          o.DefaultRole,
		Store:                store,
		SealKey:              key,
		AccessTTL:            o.AccessTokenTTL,
		RefreshTTL:           o.RefreshTokenTTL,
		Logger:               log.With("component", "oauth"),
	})
	if err != nil {
		closeStore()
		return nil, nil, fmt.Errorf("building authorization server: %w", err)
	}
	auth, err := bearer.NewOAuth(bearer.OAuthOptions{Verifier: as, Resource: as.Resource()})
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	ts, err := authserver.NewToolScopes(o.ToolScopes)
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	return &oauthServer{Server: as, store: store, toolScopes: ts, close: closeStore}, auth, nil
}

// OpenOAuthStore opens the state store of cfg's auth.oauth (file or
// redis; the memory store lives only inside a running gateway, so it is
// refused) for `mcpgate oauth`. The caller closes it with close.
func OpenOAuthStore(cfg *config.Config) (store authserver.Store, close func() error, err error) {
	if cfg.Auth.Mode != config.AuthOAuth {
		return nil, nil, errors.New("auth.mode is not oauth")
	}
	if t := cfg.Auth.OAuth.Store.Type; t == "" || t == config.OAuthStoreMemory {
		return nil, nil, errors.New("the memory store lives inside the running gateway; there is nothing to open")
	}
	store, _, close, err = openOAuthStore(cfg.Auth.OAuth)
	return store, close, err
}

// openOAuthStore opens the store of o and returns it with the seal key
// (o's, else for a file store the one generated next to it, else nil: a
// random key per process) and its closer.
func openOAuthStore(o config.OAuth) (authserver.Store, []byte, func() error, error) {
	key := o.SealKeyBytes
	switch o.Store.Type {
	case config.OAuthStoreFile:
		fs, err := filestore.Open(o.Store.Path, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		if key == nil {
			if key, err = loadOrCreateKey(filepath.Join(filepath.Dir(o.Store.Path), "seal.key")); err != nil {
				fs.Close()
				return nil, nil, nil, err
			}
		}
		return fs, key, fs.Close, nil
	case config.OAuthStoreRedis:
		// The configuration requires a seal key with Redis: replicas share it.
		rc, err := redisstore.Dial(context.Background(), o.Store.URLValue.Reveal(), nil)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("opening redis store: %w", err)
		}
		return redisstore.NewOAuthStore(rc, &redisstore.OAuthOptions{Prefix: o.Store.Prefix}), key, rc.Close, nil
	}
	return authserver.NewMemoryStore(), key, func() error { return nil }, nil
}

// mount adds the authorization server's endpoints to mux: metadata under
// /.well-known/ (and the OpenID path appended to /mcp), /authorize,
// /callback, /token, /register and /revoke.
func (s *oauthServer) mount(mux *http.ServeMux) {
	h := s.Handler()
	for _, p := range []string{"/.well-known/", "/mcp/.well-known/", "/authorize", "/callback", "/token", "/register", "/revoke"} {
		mux.Handle(p, h)
	}
}

// loadOrCreateKey reads a base64 32-byte key from path, creating it (mode
// 0600) when missing.
func loadOrCreateKey(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k := make([]byte, 32)
		rand.Read(k)
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("writing seal key: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading seal key: %w", err)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("reading seal key %s: want 32 bytes, base64", path)
	}
	return k, nil
}

// oauthResourceMetadata is the resource_metadata of 401 challenges
// (RFC 9728 §5.1), "" unless auth mode is oauth.
func (g *Gateway) oauthResourceMetadata() string {
	if g.oauth == nil {
		return ""
	}
	return g.oauth.ResourceMetadataURL()
}

// oauthScope is the scope of 401 challenges ([A §PRM Discovery]), ""
// unless auth mode is oauth.
func (g *Gateway) oauthScope() string {
	if g.oauth == nil {
		return ""
	}
	return strings.Join(g.oauth.Scopes(), " ")
}

// oauthRequiredScopes are the scopes every token must hold for the MCP
// endpoint, nil unless auth mode is oauth.
func (g *Gateway) oauthRequiredScopes() []string {
	if g.oauth == nil {
		return nil
	}
	return g.cfg.Auth.OAuth.RequiredScopes
}
