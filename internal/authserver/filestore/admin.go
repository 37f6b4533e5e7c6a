package filestore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/mcpgate/mcpgate/internal/authserver"
)

var _ authserver.AdminStore = (*Store)(nil)

// Clients implements authserver.AdminStore.
func (s *Store) Clients(_ context.Context) ([]authserver.Client, error) {
	return list[authserver.Client](s, bClients)
}

// DeleteClient implements authserver.AdminStore.
func (s *Store) DeleteClient(_ context.Context, id string) error { return s.del(bClients, id) }

// Grants implements authserver.AdminStore.
func (s *Store) Grants(_ context.Context) ([]authserver.Grant, error) {
	return list[authserver.Grant](s, bGrants)
}

// list decodes every record of a bucket in one read transaction.
func list[T any](s *Store, bucket []byte) ([]T, error) {
	var out []T
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(_, raw []byte) error {
			var v T
			if err := decode(raw, &v); err != nil {
				return err
			}
			out = append(out, v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing records: %w", err)
	}
	return out, nil
}
