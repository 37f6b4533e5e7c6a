// Package filestore is an authserver.Store in one embedded bbolt file, so
// the authorization server's state survives restarts of a single replica.
// Records are JSON; keys of codes and tokens are already hashes. bbolt's
// single writer makes Take and Spend atomic.
package filestore

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mcpgate/mcpgate/internal/authserver"
)

// Buckets, one per record type.
var (
	bClients = []byte("clients")
	bAuths   = []byte("authorizations")
	bCodes   = []byte("codes")
	bGrants  = []byte("grants")
	bTokens  = []byte("tokens")
)

// Options configures Open. Nil means defaults.
type Options struct {
	// LockTimeout is how long Open waits for another process's lock on
	// the file. Zero means 2s.
	LockTimeout time.Duration
}

// Store is the bbolt-backed authserver.Store. Close it when done.
type Store struct{ db *bolt.DB }

var _ authserver.Store = (*Store)(nil)

// Open opens (creating) the store file at path, readable by its owner
// only.
func Open(path string, opts *Options) (*Store, error) {
	timeout := 2 * time.Second
	if opts != nil && opts.LockTimeout > 0 {
		timeout = opts.LockTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating store directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bClients, bAuths, bCodes, bGrants, bTokens} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("creating buckets: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) put(bucket []byte, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding record: %w", err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put([]byte(key), raw) }); err != nil {
		return fmt.Errorf("writing record: %w", err)
	}
	return nil
}

func (s *Store) get(bucket []byte, key string, v any) error {
	return s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucket).Get([]byte(key))
		if raw == nil {
			return authserver.ErrNotFound
		}
		return decode(raw, v)
	})
}

func (s *Store) del(bucket []byte, key string) error {
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Delete([]byte(key)) }); err != nil {
		return fmt.Errorf("deleting record: %w", err)
	}
	return nil
}

func decode(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding record: %w", err)
	}
	return nil
}

// spend marks the record under key spent in one transaction: it decodes
// into v, calls spent to read and set the flag, and writes it back.
func (s *Store) spend(bucket []byte, key string, v any, spent func() *bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		raw := b.Get([]byte(key))
		if raw == nil {
			return authserver.ErrNotFound
		}
		if err := decode(raw, v); err != nil {
			return err
		}
		f := spent()
		if *f {
			return authserver.ErrSpent
		}
		*f = true
		out, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding record: %w", err)
		}
		*f = false // the caller gets the record as it was
		return b.Put([]byte(key), out)
	})
}

// PutClient implements authserver.Store.
func (s *Store) PutClient(_ context.Context, c authserver.Client) error {
	return s.put(bClients, c.ID, c)
}

// Client implements authserver.Store.
func (s *Store) Client(_ context.Context, id string) (authserver.Client, error) {
	var c authserver.Client
	return c, s.get(bClients, id, &c)
}

// PutAuthorization implements authserver.Store.
func (s *Store) PutAuthorization(_ context.Context, key string, a authserver.Authorization) error {
	return s.put(bAuths, key, a)
}

// TakeAuthorization implements authserver.Store.
func (s *Store) TakeAuthorization(_ context.Context, key string) (authserver.Authorization, error) {
	var a authserver.Authorization
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bAuths)
		raw := b.Get([]byte(key))
		if raw == nil {
			return authserver.ErrNotFound
		}
		if err := decode(raw, &a); err != nil {
			return err
		}
		return b.Delete([]byte(key))
	})
	return a, err
}

// PutCode implements authserver.Store.
func (s *Store) PutCode(_ context.Context, key string, c authserver.Code) error {
	return s.put(bCodes, key, c)
}

// SpendCode implements authserver.Store.
func (s *Store) SpendCode(_ context.Context, key string) (authserver.Code, error) {
	var c authserver.Code
	err := s.spend(bCodes, key, &c, func() *bool { return &c.Spent })
	return c, err
}

// PutGrant implements authserver.Store.
func (s *Store) PutGrant(_ context.Context, g authserver.Grant) error {
	return s.put(bGrants, g.ID, g)
}

// Grant implements authserver.Store.
func (s *Store) Grant(_ context.Context, id string) (authserver.Grant, error) {
	var g authserver.Grant
	return g, s.get(bGrants, id, &g)
}

// DeleteGrant implements authserver.Store.
func (s *Store) DeleteGrant(_ context.Context, id string) error { return s.del(bGrants, id) }

// PutToken implements authserver.Store.
func (s *Store) PutToken(_ context.Context, key string, t authserver.Token) error {
	return s.put(bTokens, key, t)
}

// Token implements authserver.Store.
func (s *Store) Token(_ context.Context, key string) (authserver.Token, error) {
	var t authserver.Token
	return t, s.get(bTokens, key, &t)
}

// SpendToken implements authserver.Store.
func (s *Store) SpendToken(_ context.Context, key string) (authserver.Token, error) {
	var t authserver.Token
	err := s.spend(bTokens, key, &t, func() *bool { return &t.Spent })
	return t, err
}

// DeleteToken implements authserver.Store.
func (s *Store) DeleteToken(_ context.Context, key string) error { return s.del(bTokens, key) }

// Sweep implements authserver.Store: one write transaction over the four
// expiring buckets.
func (s *Store) Sweep(_ context.Context, now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bAuths, bCodes, bGrants, bTokens} {
			b := tx.Bucket(name)
			var dead [][]byte
			err := b.ForEach(func(k, v []byte) error {
				var rec struct {
					ExpiresAt time.Time `json:"expires_at"`
				}
				if json.Unmarshal(v, &rec) != nil || rec.ExpiresAt.Before(now) {
					dead = append(dead, k) // undecodable records go too
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range dead {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n += len(dead)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweeping: %w", err)
	}
	return n, nil
}
