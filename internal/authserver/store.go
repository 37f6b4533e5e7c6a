package authserver

import (
	"context"
	"errors"
	"time"
)

// Errors a Store returns. Backends translate their own errors into these or
// wrap them; no backend error type leaves a backend package.
var (
	// ErrNotFound: no record under the key (never stored, taken, or deleted).
	ErrNotFound = errors.New("not found")
	// ErrSpent: a single-use record (code, refresh token) was used before.
	// The record is returned with the error so the caller can revoke its
	// grant (OAuth 2.1 §4.1.3, §4.3.1: replay revokes).
	ErrSpent = errors.New("already used")
	// ErrUnavailable: the backend failed (unreachable, timed out, refused
	// the command). A backend wraps it with context but never with its own
	// error values, so no client library's errors leave the backend.
	ErrUnavailable = errors.New("store unavailable")
)

// Store holds the authorization server's state: clients, pending
// authorizations, codes, grants and tokens. Keys of pending
// authorizations, codes and tokens are SHA-256 digests of the secret values
// (hashKey), never the values themselves. Records carry their expiry; the
// Server checks it, a backend may drop expired records at any time.
// Implementations must be safe for concurrent use, and the Take and Spend
// methods atomic: of two concurrent callers exactly one succeeds.
type Store interface {
	// PutClient stores a client, replacing one with the same ID.
	PutClient(ctx context.Context, c Client) error
	// Client returns the client with the ID, or ErrNotFound.
	Client(ctx context.Context, id string) (Client, error)

	// PutAuthorization stores a pending authorization under key.
	PutAuthorization(ctx context.Context, key string, a Authorization) error
	// TakeAuthorization removes and returns the pending authorization under
	// key, or ErrNotFound.
	TakeAuthorization(ctx context.Context, key string) (Authorization, error)

	// PutCode stores an authorization code's record under key.
	PutCode(ctx context.Context, key string, c Code) error
	// SpendCode marks the code used and returns it; a second call returns
	// the record and ErrSpent; an unknown key ErrNotFound.
	SpendCode(ctx context.Context, key string) (Code, error)

	// PutGrant stores a grant, replacing one with the same ID.
	PutGrant(ctx context.Context, g Grant) error
	// Grant returns the grant with the ID, or ErrNotFound.
	Grant(ctx context.Context, id string) (Grant, error)
	// DeleteGrant deletes the grant; every token of it stops being valid
	// (tokens are checked against their grant). Deleting a missing grant
	// is not an error.
	DeleteGrant(ctx context.Context, id string) error

	// PutToken stores an access or refresh token's record under key.
	PutToken(ctx context.Context, key string, t Token) error
	// Token returns the token under key, or ErrNotFound.
	Token(ctx context.Context, key string) (Token, error)
	// SpendToken marks a refresh token used and returns it; a second call
	// returns the record and ErrSpent; an unknown key ErrNotFound.
	SpendToken(ctx context.Context, key string) (Token, error)
	// DeleteToken deletes the token under key; a missing one is not an
	// error.
	DeleteToken(ctx context.Context, key string) error

	// Sweep deletes the pending authorizations, codes, grants and tokens
	// that expired before now, and returns how many. Clients are kept.
	Sweep(ctx context.Context, now time.Time) (int, error)
}

// Client is a registered OAuth client: pre-registered from the
// configuration, or registered dynamically (RFC 7591).
type Client struct {
	ID string `json:"client_id"`
	// SecretHash is the "sha256:<hex>" digest of a confidential client's
	// secret; "" for a public client (token_endpoint_auth_method none).
	SecretHash string `json:"secret_hash,omitempty"`
	Name       string `json:"client_name,omitempty"`
	// RedirectURIs are matched exactly ([A §Open Redirection]).
	RedirectURIs []string `json:"redirect_uris"`
	// ApplicationType is "web" or "native" (RFC 7591 via OIDC DCR §2).
	ApplicationType string    `json:"application_type,omitempty"`
	AuthMethod      string    `json:"token_endpoint_auth_method"`
	Static          bool      `json:"static,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	// CIMD marks a client known by its Client ID Metadata Document;
	// Expires is when the document must be fetched again.
	CIMD    bool      `json:"cimd,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
	// LastUsed is when a dynamic client was registered or last started an
	// authorization or called the token endpoint (updated at most every
	// clientTouchEvery); zero for clients registered before it was
	// recorded. Options.ClientIdleTTL forgets clients unused for longer.
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Identity is the upstream user a grant belongs to.
type Identity struct {
	Issuer  string   `json:"iss"`
	Subject string   `json:"sub"`
	Email   string   `json:"email,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	Role    string   `json:"role,omitempty"`
}

// Authorization is a pending authorization request: validated at
// /authorize, waiting for consent and then for the upstream provider.
type Authorization struct {
	ClientID      string   `json:"client_id"`
	RedirectURI   string   `json:"redirect_uri"`
	State         string   `json:"state,omitempty"`
	CodeChallenge string   `json:"code_challenge"`
	Resource      string   `json:"resource"`
	Scopes        []string `json:"scopes"`
	// CSRFHash is the digest of the consent form's CSRF token; BrowserHash
	// the digest of the browser-binding cookie that started the request.
	CSRFHash    string `json:"csrf_hash,omitempty"`
	BrowserHash string `json:"browser_hash"`
	// UpstreamNonce and UpstreamVerifier are the gateway's own nonce and
	// PKCE verifier towards the upstream provider, set after consent.
	UpstreamNonce    string    `json:"upstream_nonce,omitempty"`
	UpstreamVerifier string    `json:"upstream_verifier,omitempty"`
	ExpiresAt        time.Time `json:"expires_at"`
	// RememberedUser is set when the consent page was skipped because this
	// browser's user approved the same client, scopes and resource before:
	// the issuer and subject (NUL-separated) the callback's user must be.
	RememberedUser string `json:"remembered_user,omitempty"`
}

// Code is an authorization code's record, bound to the client, the
// redirect URI, the PKCE challenge and the resource (OAuth 2.1 §4.1.3).
type Code struct {
	ClientID      string    `json:"client_id"`
	RedirectURI   string    `json:"redirect_uri"`
	CodeChallenge string    `json:"code_challenge"`
	Resource      string    `json:"resource"`
	Scopes        []string  `json:"scopes"`
	GrantID       string    `json:"grant_id"`
	ExpiresAt     time.Time `json:"expires_at"`
	Spent         bool      `json:"spent,omitempty"`
}

// Grant is one user's authorization of one client for one resource; the
// tokens issued under it live and die with it.
type Grant struct {
	ID       string   `json:"id"`
	ClientID string   `json:"client_id"`
	Identity Identity `json:"identity"`
	Resource string   `json:"resource"`
	Scopes   []string `json:"scopes"`
	// Upstream is the upstream provider's token set, sealed (AES-GCM).
	Upstream  []byte    `json:"upstream,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Consent marks a remembered consent rather than a grant: the user's
	// approval of ClientID for Resource and Scopes, until ExpiresAt. Its
	// ID starts with "consent:"; no token refers to it.
	Consent bool `json:"consent,omitempty"`
}

// Token kinds.
const (
	KindAccess  = "access"
	KindRefresh = "refresh"
)

// Token is an access or refresh token's record.
type Token struct {
	Kind      string    `json:"kind"`
	GrantID   string    `json:"grant_id"`
	ClientID  string    `json:"client_id"`
	Resource  string    `json:"resource"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
	Spent     bool      `json:"spent,omitempty"`
}
