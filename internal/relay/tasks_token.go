package relay

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// Gateway task tokens (docs/protocol-eras.md §4.6): the taskId a 2026-07-28
// client sees in place of an upstream's. A token is "mcpgatetask1." +
// base64url(key id ‖ nonce ‖ AES-256-GCM seal of the claims), sealed with
// the requestState key of the multi-round-trip translation (mrtr_state.go:
// one secret, MRTROptions.StateKey, for every token the gateway mints) under
// its own prefix as additional data, so that a requestState never opens as
// a task token or the other way round.
//
// The claims name the upstream and its task id (routing needs nothing
// stored), the principal the task belongs to (another principal's
// tasks/get fails as if the task did not exist), and this gateway process:
// upstreams are stdio processes of this replica, so a token presented to
// another replica (or after a restart, when the upstream process and its
// tasks are gone too) is refused. Tasks live as long as the upstream keeps
// them (its ttlMs); the token adds no expiry of its own.

const taskTokenPrefix = "mcpgatetask1."

const taskClaimsVersion = 1

// maxUpstreamTaskID bounds the upstream task ids the gateway wraps; a
// longer one is refused (an upstream has no reason to mint them).
const maxUpstreamTaskID = 512

// taskClaims is what a task token carries.
type taskClaims struct {
	replica   [8]byte
	principal [16]byte
	upstream  string
	taskID    string
}

// marshal encodes the claims: version ‖ replica ‖ principal ‖
// uvarint(len(upstream)) ‖ upstream ‖ task id.
func (c *taskClaims) marshal() []byte {
	b := make([]byte, 0, 1+8+16+2+len(c.upstream)+len(c.taskID))
	b = append(b, taskClaimsVersion)
	b = append(b, c.replica[:]...)
	b = append(b, c.principal[:]...)
	b = binary.AppendUvarint(b, uint64(len(c.upstream)))
	b = append(b, c.upstream...)
	return append(b, c.taskID...)
}

func (c *taskClaims) unmarshal(b []byte) bool {
	if len(b) < 1+8+16+1 || b[0] != taskClaimsVersion {
		return false
	}
	b = b[1:]
	b = b[copy(c.replica[:], b):]
	b = b[copy(c.principal[:], b):]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return false
	}
	b = b[k:]
	c.upstream, c.taskID = string(b[:n]), string(b[n:])
	return true
}

func (s *stateSealer) taskAdditionalData() []byte {
	return append([]byte(taskTokenPrefix), s.keyID[:]...)
}

// sealTask returns the token for c.
func (s *stateSealer) sealTask(c *taskClaims) string {
	plain := c.marshal()
	ns := s.aead.NonceSize()
	raw := make([]byte, len(s.keyID)+ns, len(s.keyID)+ns+len(plain)+s.aead.Overhead())
	copy(raw, s.keyID[:])
	_, _ = rand.Read(raw[len(s.keyID):])
	raw = s.aead.Seal(raw, raw[len(s.keyID):], plain, s.taskAdditionalData())
	return taskTokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
}

// openTask checks a token's integrity and returns its claims; the
// bindings (principal, replica, upstream) are the caller's to check.
func (s *stateSealer) openTask(token string) (taskClaims, bool) {
	var c taskClaims
	rest, ok := strings.CutPrefix(token, taskTokenPrefix)
	if !ok || len(rest) > 2*maxUpstreamTaskID {
		return c, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	ns := s.aead.NonceSize()
	if err != nil || len(raw) < len(s.keyID)+ns+s.aead.Overhead() || !bytes.Equal(raw[:len(s.keyID)], s.keyID[:]) {
		return c, false
	}
	plain, err := s.aead.Open(nil, raw[len(s.keyID):len(s.keyID)+ns], raw[len(s.keyID)+ns:], s.taskAdditionalData())
	if err != nil || !c.unmarshal(plain) {
		return c, false
	}
	return c, true
}
