package redis

import (
	"context"
	"strings"

	"github.com/mcpgate/mcpgate/internal/authserver"
)

// The operators' view of the OAuth store (authserver.AdminStore, used by
// `mcpgate oauth` and to forget idle dynamic clients). Listing walks the
// keys of one kind with SCAN (never KEYS, which blocks Redis) and reads
// them with MGET in batches; a key that expires in between is skipped.

var _ authserver.AdminStore = (*OAuthStore)(nil)

// scanBatch is the COUNT hint of SCAN and the size of one MGET.
const scanBatch = 256

// Clients implements authserver.AdminStore.
func (s *OAuthStore) Clients(ctx context.Context) ([]authserver.Client, error) {
	return scanRecords[authserver.Client](ctx, s, "client", kindClient)
}

// DeleteClient implements authserver.AdminStore.
func (s *OAuthStore) DeleteClient(ctx context.Context, id string) error {
	if err := s.rdb.Del(ctx, s.key(kindClient, id)).Err(); err != nil {
		return unavailable("deleting client", err)
	}
	return nil
}

// Grants implements authserver.AdminStore.
func (s *OAuthStore) Grants(ctx context.Context) ([]authserver.Grant, error) {
	return scanRecords[authserver.Grant](ctx, s, "grant", kindGrant)
}

// scanRecords decodes every unflagged JSON record of one kind.
func scanRecords[T any](ctx context.Context, s *OAuthStore, what, kind string) ([]T, error) {
	var out []T
	it := s.rdb.Scan(ctx, 0, globEscape(s.prefix+kind)+"*", scanBatch).Iterator()
	var keys []string
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return unavailable("listing "+what, err)
		}
		for _, v := range vals {
			raw, ok := v.(string)
			if !ok {
				continue // expired or deleted since SCAN saw it
			}
			var rec T
			if err := decode(what, []byte(raw), &rec); err != nil {
				return err
			}
			out = append(out, rec)
		}
		keys = keys[:0]
		return nil
	}
	for it.Next(ctx) {
		keys = append(keys, it.Val())
		if len(keys) == scanBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := it.Err(); err != nil {
		return nil, unavailable("listing "+what, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// globEscape quotes the glob characters of a key prefix for SCAN MATCH.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}
