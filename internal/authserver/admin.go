package authserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AdminStore is the operators' view of a Store: every client and grant,
// and deleting a client. `mcpgate oauth` lists and revokes through it, and
// the server uses it to forget dynamic clients nobody used for a while.
// Every backend implements it (the contract suite in storetest checks
// it); it is a separate interface so that a Store written for a test need
// not.
type AdminStore interface {
	// Clients returns every registered client, in no particular order.
	Clients(ctx context.Context) ([]Client, error)
	// DeleteClient deletes the client; a missing one is not an error.
	// Its grants are not touched (see RevokeClient).
	DeleteClient(ctx context.Context, id string) error
	// Grants returns every grant and remembered consent that has not
	// been swept, in no particular order.
	Grants(ctx context.Context) ([]Grant, error)
}

// consentPrefix starts the ID of a remembered consent record. Consents are
// stored as grants (PutGrant, Grant, DeleteGrant, swept at ExpiresAt) with
// Consent set; no token ever refers to one.
const consentPrefix = "consent:"

// consentID is the ID of the remembered consent of user (issuer and
// subject) for client, resource and scopes: one record per tuple, so
// approving more scopes is a new consent (the scopes are sorted).
func consentID(issuer, subject, clientID, resource string, scopes []string) string {
	sc := slices.Clone(scopes)
	slices.Sort(sc)
	return consentPrefix + hashKey(strings.Join([]string{issuer, subject, clientID, resource, strings.Join(sc, " ")}, "\x00"))
}

// ConsentID returns the ID of the remembered consent a grant was made
// under (it may have expired or be gone).
func (g Grant) ConsentID() string {
	return consentID(g.Identity.Issuer, g.Identity.Subject, g.ClientID, g.Resource, g.Scopes)
}

// RevokeGrant deletes a grant, so every token issued under it stops
// working, and forgets the consent it was made under: the next
// authorization of that client asks the user again. A missing grant is
// not an error. Revoking a remembered consent (an ID from ConsentID) only
// forgets it; tokens already issued stay valid.
func RevokeGrant(ctx context.Context, s Store, id string) error {
	g, err := s.Grant(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading grant: %w", err)
	}
	if err := s.DeleteGrant(ctx, id); err != nil {
		return fmt.Errorf("deleting grant: %w", err)
	}
	if !g.Consent {
		if err := s.DeleteGrant(ctx, g.ConsentID()); err != nil {
			return fmt.Errorf("deleting consent: %w", err)
		}
	}
	return nil
}

// RevokeClient deletes a client and revokes its grants and consents.
func RevokeClient(ctx context.Context, s AdminStore, id string) error {
	st, ok := s.(Store)
	if !ok {
		return errors.New("revoking client: the store is not an authserver.Store")
	}
	gs, err := s.Grants(ctx)
	if err != nil {
		return fmt.Errorf("listing grants: %w", err)
	}
	if err := s.DeleteClient(ctx, id); err != nil {
		return fmt.Errorf("deleting client: %w", err)
	}
	for _, g := range gs {
		if g.ClientID == id {
			if err := RevokeGrant(ctx, st, g.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// clientIdle reports whether a dynamically registered client has not been
// used for longer than ttl (ttl > 0). Pre-registered and CIMD clients
// never idle out: the configuration or the document define them. A
// client without LastUsed was registered before use was recorded: it is
// not judged until its next use records one.
func clientIdle(c Client, now time.Time, ttl time.Duration) bool {
	if ttl <= 0 || c.Static || c.CIMD || c.LastUsed.IsZero() {
		return false
	}
	return now.Sub(c.LastUsed) > ttl
}
