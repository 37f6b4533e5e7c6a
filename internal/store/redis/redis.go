// Package redis holds mcpgate's Redis-backed stores, shared by every
// replica: one Client (connection pool) per Redis, and on it the OAuth
// authorization server's store (OAuthStore, key schema in oauth.go and
// docs/oauth.md). Only this package imports go-redis; its errors leave
// it as the owning packages' sentinels.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/mcpgate/mcpgate/internal/authserver"
)

// Options configures Dial. Nil means defaults.
type Options struct {
	// DialTimeout bounds connecting, and Dial's first PING. Zero means 5s.
	DialTimeout time.Duration
}

// Client is a connection pool to one Redis, shared by the stores built on
// it. Close it after them.
type Client struct {
	rdb *goredis.Client
}

// Dial connects to the Redis at rawURL (redis://, rediss:// or
// unix://, with optional user, password and database as go-redis reads
// them) and checks it answers PING.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	ro, err := goredis.ParseURL(rawURL)
	if err != nil {
		// A url.Error quotes the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("parsing redis URL: %v", err)
	}
	ro.DialTimeout = o.DialTimeout
	// No client-side maintenance handshakes or identity calls beyond what
	// the commands need.
	ro.DisableIdentity = true
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	rdb := goredis.NewClient(ro)
	pctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, unavailable("connecting to redis", err)
	}
	return &Client{rdb: rdb}, nil
}

// Close closes the connection pool.
func (c *Client) Close() error {
	if err := c.rdb.Close(); err != nil {
		return unavailable("closing redis client", err)
	}
	return nil
}

// translate maps a go-redis error to the authserver sentinels: a missing
// key is ErrNotFound, anything else ErrUnavailable with the backend's
// message as text only, so no go-redis error value leaves this package.
func translate(what string, err error) error {
	if errors.Is(err, goredis.Nil) {
		return authserver.ErrNotFound
	}
	return unavailable(what, err)
}

func unavailable(what string, err error) error {
	return fmt.Errorf("%s: %s: %w", what, err.Error(), authserver.ErrUnavailable)
}
