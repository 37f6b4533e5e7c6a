package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sync"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/peruser"
	"github.com/mcpgate/mcpgate/internal/upstream/stdio"
)

// processLimit bounds per-user upstream processes: across all upstreams
// (limits.max_processes) and per user (limits.max_processes_per_user). A
// full gateway refuses a new process; it never stops a live one.
type processLimit struct {
	max, maxPerUser int

	mu     sync.Mutex // guards total and byUser
	total  int
	byUser map[string]int
}

var errProcessLimit = errors.New("upstream process limit reached")

func (l *processLimit) take(user string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max || l.byUser[user] >= l.maxPerUser {
		return nil, errProcessLimit
	}
	l.total++
	l.byUser[user]++
	return sync.OnceFunc(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.total--
		if l.byUser[user]--; l.byUser[user] == 0 {
			delete(l.byUser, user)
		}
	}), nil
}

// limitedConn gives its process slot back when it stops.
type limitedConn struct {
	peruser.Conn
	release func()
}

func (c *limitedConn) Close(ctx context.Context) error {
	defer c.release()
	return c.Conn.Close(ctx)
}

// Status forwards the wrapped connection's health.
func (c *limitedConn) Status() upstream.Status {
	if sr, ok := c.Conn.(upstream.StatusReporter); ok {
		return sr.Status()
	}
	return upstream.Status{Name: c.Name(), State: c.State()}
}

// userConns adapts a peruser.Pool to the relay, mapping limits to
// relay.ErrCapacity.
type userConns struct{ pool *peruser.Pool }

func (u userConns) Acquire(ctx context.Context, userKey string) (upstream.Conn, func(), error) {
	c, release, err := u.pool.Acquire(ctx, userKey)
	if err == nil && retireExpired(u.pool, userKey, c) { // oauth_upstream.go: a fresh token needs a new process
		release()
		c, release, err = u.pool.Acquire(ctx, userKey)
	}
	if errors.Is(err, peruser.ErrLimit) || errors.Is(err, errProcessLimit) {
		return nil, nil, fmt.Errorf("%w: %w", relay.ErrCapacity, err)
	}
	return c, release, err
}

// newPerUser builds the per-user pool of an upstream marked per_user: each
// user's process (stdio) or connection (remote) gets that user's
// credential only (config Credential: static, per_user by the user's name,
// or passthrough from the request's context), in its environment or in a
// header of every request. Remote connections count against the process
// limits too.
func (g *Gateway) newPerUser(u config.Upstream, clientInfo json.RawMessage, limit *processLimit) (*peruser.Pool, error) {
	log := g.log
	eras := &upstream.EraMemory{} // one probe for all the users' processes (protocol: auto)
	factory := func(ctx context.Context, userKey string) (peruser.Conn, error) {
		// The user's credential: in the process's environment (stdio) or
		// in a header of every request (remote).
		var (
			env    map[string]string
			header http.Header
			err    error
		)
		if isRemote(u) {
			header, err = remoteHeader(ctx, u)
		} else {
			env, err = userEnv(ctx, u)
		}
		if err != nil {
			return nil, err
		}
		release, err := limit.take(userKey)
		if err != nil {
			return nil, err
		}
		h := g.relay.UserHandler(userKey)
		var conn peruser.Conn
		if isRemote(u) {
			conn, err = g.newRemote(u, header, clientInfo, h, log.With("per_user", true))
		} else {
			opts := stdioOptions(u, env, clientInfo)
			opts.EraMemory = eras
			conn, err = stdio.New(opts, h, log.With("per_user", true))
		}
		if err != nil {
			release()
			return nil, err
		}
		h.Bind(conn)
		return withTokenExpiry(ctx, u, &limitedConn{Conn: conn, release: release}), nil // oauth_upstream.go
	}
	return peruser.New(factory, peruser.Options{
		Name:         u.Name,
		MaxConns:     g.cfg.Limits.MaxProcesses,
		StartTimeout: u.InitTimeout,
		Logger:       log.With("upstream", u.Name, "component", "peruser"),
	}), nil
}

// userEnv is the environment of one user's process: the upstream's own,
// plus the credential the configuration gives that user. The secret goes
// into this process's environment and nowhere else.
func userEnv(ctx context.Context, u config.Upstream) (map[string]string, error) {
	env := make(map[string]string, len(u.Env)+1)
	maps.Copy(env, u.Env)
	s, ok, err := credentialFor(ctx, u)
	if err != nil {
		return nil, err
	}
	if ok {
		env[u.Credential.Env] = s.Reveal()
	}
	return env, nil
}
