package redis

// The OAuth store's key schema (Prefix defaults to "mcpgate:oauth:"):
//
//	<prefix>client:<client_id>        JSON Client, no TTL
//	<prefix>authorization:<hash>      JSON Authorization, PXAT expires_at
//	<prefix>code:<hash>               flag byte + JSON Code, PXAT expires_at
//	<prefix>grant:<grant_id>          JSON Grant, PXAT expires_at
//	<prefix>token:<hash>              flag byte + JSON Token, PXAT expires_at
//	<prefix>expiry                    sorted set: expiring key → expires_at (µs)
//
// The flag byte of codes and tokens is '0' (fresh) or '1' (spent); a Lua
// script reads it and sets it in one step, so of two replicas spending the
// same code or refresh token exactly one wins (OAuth 2.1 §4.1.3, §4.3.1).
// SETRANGE keeps the key's TTL. Redis drops a record at its expiry; the
// expiry index lets Sweep honour the caller's clock as the other backends
// do (and clears index entries of keys Redis already dropped). Records
// with a zero expiry get no TTL and are swept at the next Sweep, as in
// the memory store.
//
// It needs one Redis 6.2 or later (PXAT, GETDEL), not Redis Cluster: the Lua
// scripts touch several keys, which Cluster allows only in one hash slot.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mcpgate/mcpgate/internal/authserver"
)

// DefaultOAuthPrefix namespaces the OAuth store's keys when
// OAuthOptions.Prefix is zero.
const DefaultOAuthPrefix = "mcpgate:oauth:"

// OAuthOptions configures NewOAuthStore. Nil means defaults.
type OAuthOptions struct {
	// Prefix is prepended to every key, so several gateways (or other
	// applications) can share one Redis. Zero means DefaultOAuthPrefix.
	Prefix string
}

// OAuthStore is the Redis-backed authserver.Store. It uses its Client and
// does not close it.
type OAuthStore struct {
	rdb    *goredis.Client
	prefix string
	index  string // the expiry sorted set
}

var _ authserver.Store = (*OAuthStore)(nil)

// NewOAuthStore returns the authorization server's store on c.
func NewOAuthStore(c *Client, opts *OAuthOptions) *OAuthStore {
	prefix := DefaultOAuthPrefix
	if opts != nil && opts.Prefix != "" {
		prefix = opts.Prefix
	}
	return &OAuthStore{rdb: c.rdb, prefix: prefix, index: prefix + "expiry"}
}

// Key kinds, the middle part of a key.
const (
	kindClient = "client:"
	kindAuth   = "authorization:"
	kindCode   = "code:"
	kindGrant  = "grant:"
	kindToken  = "token:"
)

func (s *OAuthStore) key(kind, id string) string { return s.prefix + kind + id }

// score is a record's place in the expiry index: its expiry in
// microseconds (exact in a float64 for every plausible date).
func score(exp time.Time) float64 { return float64(exp.UnixMicro()) }

// Flag bytes of single-use records.
const (
	flagFresh = '0'
	flagSpent = '1'
)

// spendScript returns a single-use record's value as it was and marks it
// spent, in one atomic step; a missing key returns nil. SETRANGE keeps
// the key's TTL.
var spendScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
if string.sub(v, 1, 1) == '0' then redis.call('SETRANGE', KEYS[1], 0, '1') end
return v
`)

// putExpiring stores raw under key with Redis expiring it at exp, and
// records exp in the expiry index, in one MULTI/EXEC.
func (s *OAuthStore) putExpiring(ctx context.Context, what, key string, raw []byte, exp time.Time) error {
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		if exp.IsZero() {
			p.Set(ctx, key, raw, 0) // no expiry; swept at the next Sweep
		} else {
			// PXAT at or before now deletes the key at once: an expired
			// record is never visible. Dates before 1970 become 1 ms.
			p.Do(ctx, "SET", key, raw, "PXAT", max(exp.UnixMilli(), 1))
		}
		p.ZAdd(ctx, s.index, goredis.Z{Score: score(exp), Member: key})
		return nil
	})
	if err != nil {
		return unavailable("storing "+what, err)
	}
	return nil
}

// del deletes key and its index entry.
func (s *OAuthStore) del(ctx context.Context, what, key string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, key)
		p.ZRem(ctx, s.index, key)
		return nil
	})
	if err != nil {
		return unavailable("deleting "+what, err)
	}
	return nil
}

func (s *OAuthStore) get(ctx context.Context, what, key string, v any) error {
	raw, err := s.rdb.Get(ctx, key).Bytes()
	if err != nil {
		return translate("reading "+what, err)
	}
	return decode(what, raw, v)
}

func decode(what string, raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	return nil
}

func encode(what string, flag byte, v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", what, err)
	}
	if flag == 0 {
		return raw, nil
	}
	return append([]byte{flag}, raw...), nil
}

func flagOf(spent bool) byte {
	if spent {
		return flagSpent
	}
	return flagFresh
}

// spend runs spendScript on key and decodes the record as it was into v;
// spent reports whether it had been spent before.
func (s *OAuthStore) spend(ctx context.Context, what, key string, v any) (spent bool, err error) {
	raw, err := spendScript.Run(ctx, s.rdb, []string{key}).Text()
	if err != nil {
		return false, translate("spending "+what, err)
	}
	if raw == "" {
		return false, fmt.Errorf("decoding %s: empty record", what)
	}
	if err := decode(what, []byte(raw[1:]), v); err != nil {
		return false, err
	}
	return raw[0] == flagSpent, nil
}

// getFlagged reads a code or token record and its flag.
func (s *OAuthStore) getFlagged(ctx context.Context, what, key string, v any) (spent bool, err error) {
	raw, err := s.rdb.Get(ctx, key).Bytes()
	if err != nil {
		return false, translate("reading "+what, err)
	}
	if len(raw) == 0 {
		return false, fmt.Errorf("decoding %s: empty record", what)
	}
	return raw[0] == flagSpent, decode(what, raw[1:], v)
}

// PutClient implements authserver.Store. Clients never expire in Redis.
func (s *OAuthStore) PutClient(ctx context.Context, c authserver.Client) error {
	raw, err := encode("client", 0, c)
	if err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, s.key(kindClient, c.ID), raw, 0).Err(); err != nil {
		return unavailable("storing client", err)
	}
	return nil
}

// Client implements authserver.Store.
func (s *OAuthStore) Client(ctx context.Context, id string) (authserver.Client, error) {
	var c authserver.Client
	return c, s.get(ctx, "client", s.key(kindClient, id), &c)
}

// PutAuthorization implements authserver.Store.
func (s *OAuthStore) PutAuthorization(ctx context.Context, key string, a authserver.Authorization) error {
	raw, err := encode("authorization", 0, a)
	if err != nil {
		return err
	}
	return s.putExpiring(ctx, "authorization", s.key(kindAuth, key), raw, a.ExpiresAt)
}

// TakeAuthorization implements authserver.Store: GETDEL is atomic, so of
// two replicas taking one authorization only one gets it.
func (s *OAuthStore) TakeAuthorization(ctx context.Context, key string) (authserver.Authorization, error) {
	k := s.key(kindAuth, key)
	var get *goredis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		get = p.GetDel(ctx, k)
		p.ZRem(ctx, s.index, k)
		return nil
	})
	var a authserver.Authorization
	if err != nil {
		return a, translate("taking authorization", err)
	}
	raw, err := get.Bytes()
	if err != nil {
		return a, translate("taking authorization", err)
	}
	return a, decode("authorization", raw, &a)
}

// PutCode implements authserver.Store.
func (s *OAuthStore) PutCode(ctx context.Context, key string, c authserver.Code) error {
	flag := flagOf(c.Spent)
	c.Spent = false // the flag byte is the truth
	raw, err := encode("code", flag, c)
	if err != nil {
		return err
	}
	return s.putExpiring(ctx, "code", s.key(kindCode, key), raw, c.ExpiresAt)
}

// SpendCode implements authserver.Store.
func (s *OAuthStore) SpendCode(ctx context.Context, key string) (authserver.Code, error) {
	var c authserver.Code
	spent, err := s.spend(ctx, "code", s.key(kindCode, key), &c)
	if err != nil {
		return authserver.Code{}, err
	}
	if spent {
		c.Spent = true
		return c, authserver.ErrSpent
	}
	return c, nil
}

// PutGrant implements authserver.Store.
func (s *OAuthStore) PutGrant(ctx context.Context, g authserver.Grant) error {
	raw, err := encode("grant", 0, g)
	if err != nil {
		return err
	}
	return s.putExpiring(ctx, "grant", s.key(kindGrant, g.ID), raw, g.ExpiresAt)
}

// Grant implements authserver.Store.
func (s *OAuthStore) Grant(ctx context.Context, id string) (authserver.Grant, error) {
	var g authserver.Grant
	return g, s.get(ctx, "grant", s.key(kindGrant, id), &g)
}

// DeleteGrant implements authserver.Store.
func (s *OAuthStore) DeleteGrant(ctx context.Context, id string) error {
	return s.del(ctx, "grant", s.key(kindGrant, id))
}

// PutToken implements authserver.Store.
func (s *OAuthStore) PutToken(ctx context.Context, key string, t authserver.Token) error {
	flag := flagOf(t.Spent)
	t.Spent = false
	raw, err := encode("token", flag, t)
	if err != nil {
		return err
	}
	return s.putExpiring(ctx, "token", s.key(kindToken, key), raw, t.ExpiresAt)
}

// Token implements authserver.Store.
func (s *OAuthStore) Token(ctx context.Context, key string) (authserver.Token, error) {
	var t authserver.Token
	spent, err := s.getFlagged(ctx, "token", s.key(kindToken, key), &t)
	if err != nil {
		return authserver.Token{}, err
	}
	t.Spent = spent
	return t, nil
}

// SpendToken implements authserver.Store.
func (s *OAuthStore) SpendToken(ctx context.Context, key string) (authserver.Token, error) {
	var t authserver.Token
	spent, err := s.spend(ctx, "token", s.key(kindToken, key), &t)
	if err != nil {
		return authserver.Token{}, err
	}
	if spent {
		t.Spent = true
		return t, authserver.ErrSpent
	}
	return t, nil
}

// DeleteToken implements authserver.Store.
func (s *OAuthStore) DeleteToken(ctx context.Context, key string) error {
	return s.del(ctx, "token", s.key(kindToken, key))
}

// sweepScript deletes the keys in KEYS[2:] whose expiry in the index
// (KEYS[1]) is still before ARGV[1] (µs) and drops them from the index;
// a key re-stored with a later expiry since the caller looked is kept.
// It returns how many keys it deleted.
var sweepScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local n = 0
for i = 2, #KEYS do
  local sc = redis.call('ZSCORE', KEYS[1], KEYS[i])
  if sc and tonumber(sc) < now then
    n = n + redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[1], KEYS[i])
  end
end
return n
`)

// sweepBatch bounds the keys one sweep script call handles.
const sweepBatch = 256

// Sweep implements authserver.Store: it walks the expiry index up to now
// in batches. Keys Redis already expired count as not deleted.
func (s *OAuthStore) Sweep(ctx context.Context, now time.Time) (int, error) {
	n := 0
	upTo := "(" + strconv.FormatInt(now.UnixMicro(), 10) // exclusive: expired before now
	for {
		keys, err := s.rdb.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: s.index, Start: "-inf", Stop: upTo, ByScore: true, Count: sweepBatch}).Result()
		if err != nil {
			return n, unavailable("sweeping", err)
		}
		if len(keys) == 0 {
			return n, nil
		}
		d, err := sweepScript.Run(ctx, s.rdb, append([]string{s.index}, keys...), now.UnixMicro()).Int()
		if err != nil {
			return n, unavailable("sweeping", err)
		}
		n += d
	}
}
