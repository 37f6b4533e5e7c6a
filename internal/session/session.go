// Package session tracks MCP sessions of the session-era protocols
// (2024-11-05 … 2025-11-25): their IDs, owners, negotiated versions, limits
// and idle expiry. The Store interface lets sessions live in memory or in a
// shared store, so that any replica can serve any request.
//
// It owns session records only; live connections and in-flight calls belong
// to the transports and the relay.
package session

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/mcpgate/mcpgate/internal/principal"
)

// Errors returned by every Store and by Manager.
var (
	// ErrNotFound: no such session, or it was deleted or has expired.
	ErrNotFound = errors.New("session not found")
	// ErrLimit: the gateway holds MaxSessions sessions and refuses new ones.
	ErrLimit = errors.New("session limit reached")
	// ErrExists: Create was given an ID already in use.
	ErrExists = errors.New("session already exists")
	// ErrPrincipalLimit: the principal already holds the most sessions one
	// principal may hold. It is also ErrLimit (errors.Is), so code that
	// only knows ErrLimit still refuses with 503.
	ErrPrincipalLimit error = principalLimitError{}
)

type principalLimitError struct{}

func (principalLimitError) Error() string        { return "session limit for this principal reached" }
func (principalLimitError) Is(target error) bool { return target == ErrLimit }

// Session is the record of one client session. Records are values: a Store
// returns copies, and the raw JSON fields are never modified in place.
type Session struct {
	// ID is the session ID sent in Mcp-Session-Id (see NewID).
	ID string
	// Principal owns the session; requests from another principal are
	// refused ([SBP §Session Hijacking]).
	Principal principal.Principal
	// ProtocolVersion is the revision negotiated at initialize.
	ProtocolVersion string
	// Capabilities is the client's capabilities object as sent at
	// initialize; ClientInfo its clientInfo. Both raw.
	Capabilities json.RawMessage
	ClientInfo   json.RawMessage
	// Transport names the transport that created the session
	// ("streamable", "sse").
	Transport string
	// CreatedAt is when the session was created; LastActive when it was
	// last used (Touch).
	CreatedAt  time.Time
	LastActive time.Time
}

// MaxIDLen is the longest session ID accepted from a client.
const MaxIDLen = 128

// NewID returns a new session ID: 192 bits from crypto/rand, base64url
// encoded (32 characters), so it is globally unique, cryptographically
// secure and visible ASCII only ([T §Session Management] 1).
func NewID() string {
	var b [24]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidID reports whether id could be a session ID: 1 to MaxIDLen visible
// ASCII characters, 0x21 to 0x7E ([T §Session Management] 1). Anything else
// sent by a client names no session.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// Short returns a prefix of a session ID for logs: enough to correlate log
// lines, too little to reuse the ID.
func Short(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[:8] + "…"
}
