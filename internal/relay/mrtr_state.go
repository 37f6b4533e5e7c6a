package relay

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// requestState tokens of the multi-round-trip translation
// (docs/protocol-eras.md §4.3 A step 2). [MRTR] is
// docs/specification/2026-07-28/basic/patterns/mrtr.mdx.
//
// A token is "mcpgate1." + base64url(key id ‖ nonce ‖ AES-256-GCM seal of
// the claims), with the prefix and key id as additional data. The claims
// bind it to this gateway process (replica), the parked call, the
// principal, the request (method, name or URI, canonical arguments) and an
// expiry: [MRTR §Server Requirements] 4 (integrity, AEAD) and 5
// (principal, short expiry, originating request).

const stateTokenPrefix = "mcpgate1."

// stateClaimsLen is the sealed plaintext's size: version, replica, parked
// call id, principal digest, request digest, expiry (Unix milliseconds).
const stateClaimsLen = 1 + 8 + 16 + 16 + 32 + 8

const stateClaimsVersion = 1

// stateClaims is what a requestState token carries.
type stateClaims struct {
	replica   [8]byte
	parked    [16]byte
	principal [16]byte
	request   [32]byte
	expires   time.Time
}

func (c *stateClaims) marshal() []byte {
	b := make([]byte, 0, stateClaimsLen)
	b = append(b, stateClaimsVersion)
	b = append(b, c.replica[:]...)
	b = append(b, c.parked[:]...)
	b = append(b, c.principal[:]...)
	b = append(b, c.request[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(c.expires.UnixMilli()))
}

func (c *stateClaims) unmarshal(b []byte) bool {
	if len(b) != stateClaimsLen || b[0] != stateClaimsVersion {
		return false
	}
	b = b[1:]
	b = b[copy(c.replica[:], b):]
	b = b[copy(c.parked[:], b):]
	b = b[copy(c.principal[:], b):]
	b = b[copy(c.request[:], b):]
	c.expires = time.UnixMilli(int64(binary.BigEndian.Uint64(b)))
	return true
}

// stateSealer seals and opens requestState tokens with one key.
type stateSealer struct {
	keyID [4]byte // the first bytes of SHA-256(key): names the key for rotation
	aead  cipher.AEAD
}

func newStateSealer(key []byte) (*stateSealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("creating the requestState key: want 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating the requestState key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating the requestState key: %w", err)
	}
	s := &stateSealer{aead: aead}
	sum := sha256.Sum256(key)
	copy(s.keyID[:], sum[:])
	return s, nil
}

func (s *stateSealer) additionalData() []byte {
	return append([]byte(stateTokenPrefix), s.keyID[:]...)
}

// seal returns the token for c.
func (s *stateSealer) seal(c *stateClaims) string {
	ns := s.aead.NonceSize()
	raw := make([]byte, len(s.keyID)+ns, len(s.keyID)+ns+stateClaimsLen+s.aead.Overhead())
	copy(raw, s.keyID[:])
	_, _ = rand.Read(raw[len(s.keyID):])
	raw = s.aead.Seal(raw, raw[len(s.keyID):], c.marshal(), s.additionalData())
	return stateTokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
}

// errStateInvalid: the token was not issued by this key, or was altered.
var errStateInvalid = errors.New("requestState is not valid")

// open checks a token's integrity and returns its claims; expiry and
// bindings are the caller's to check.
func (s *stateSealer) open(token string) (stateClaims, error) {
	var c stateClaims
	rest, ok := strings.CutPrefix(token, stateTokenPrefix)
	if !ok || len(rest) > 512 {
		return c, errStateInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	ns := s.aead.NonceSize()
	if err != nil || len(raw) < len(s.keyID)+ns+s.aead.Overhead() || !bytes.Equal(raw[:len(s.keyID)], s.keyID[:]) {
		return c, errStateInvalid
	}
	nonce := raw[len(s.keyID) : len(s.keyID)+ns]
	plain, err := s.aead.Open(nil, nonce, raw[len(s.keyID)+ns:], s.additionalData())
	if err != nil || !c.unmarshal(plain) {
		return c, errStateInvalid
	}
	return c, nil
}

// principalDigest names a principal inside a token without revealing it.
func principalDigest(key string) (d [16]byte) {
	sum := sha256.Sum256([]byte("mcpgate principal\x00" + key))
	copy(d[:], sum[:])
	return d
}

// requestDigest identifies the request a token was issued for: the method
// and the salient parameters (name or uri, and arguments in a canonical
// encoding, so that a client re-encoding the same arguments still
// matches) [MRTR §Server Requirements] 5. inputResponses, requestState and
// _meta are not part of it: they change between rounds.
func requestDigest(method string, params json.RawMessage) [32]byte {
	var p struct {
		Name      string          `json:"name"`
		URI       string          `json:"uri"`
		Arguments json.RawMessage `json:"arguments"`
	}
	_ = json.Unmarshal(params, &p)
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(p.Name))
	h.Write([]byte{0})
	h.Write([]byte(p.URI))
	h.Write([]byte{0})
	h.Write(canonicalJSON(p.Arguments))
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// canonicalJSON re-encodes v with sorted object keys and numbers as
// written; absent, null and {} arguments are the same.
func canonicalJSON(v json.RawMessage) []byte {
	if len(bytes.TrimSpace(v)) == 0 || string(bytes.TrimSpace(v)) == "null" {
		return []byte("{}")
	}
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	var x any
	if d.Decode(&x) != nil {
		return v
	}
	out, err := json.Marshal(x)
	if err != nil {
		return v
	}
	return out
}
