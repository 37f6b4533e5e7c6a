package config

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxNameLen is the longest upstream name accepted.
const MaxNameLen = 64

// Validate reports every problem in c at once, as Problems, or nil. Zero
// values are valid (they stand for defaults), so c may be checked before or
// after SetDefaults. It has no side effects: it changes nothing, and it
// neither touches the file system nor looks up commands.
func (c *Config) Validate() error {
	var ps Problems
	if c.Listen != "" {
		if err := checkListen(c.Listen); err != nil {
			ps.add("listen", "%v", err)
		}
	}
	nonNegative(&ps, "sessions.max", c.Sessions.Max)
	nonNegativeDuration(&ps, "sessions.idle_timeout", c.Sessions.IdleTimeout)
	nonNegative(&ps, "http.max_body_bytes", c.HTTP.MaxBodyBytes)
	nonNegativeDuration(&ps, "http.heartbeat_interval", c.HTTP.HeartbeatInterval)
	nonNegativeDuration(&ps, "http.shutdown_timeout", c.HTTP.ShutdownTimeout)
	nonNegative(&ps, "event_log.max_events_per_stream", c.EventLog.MaxEventsPerStream)
	nonNegative(&ps, "event_log.max_bytes_per_stream", c.EventLog.MaxBytesPerStream)
	nonNegative(&ps, "event_log.max_streams_per_session", c.EventLog.MaxStreamsPerSession)

	sep := c.Namespace.Separator
	sepOK := true
	if sep != "" {
		if err := checkSeparator(sep); err != nil {
			ps.add("namespace.separator", "%v", err)
			sepOK = false
		}
	} else {
		sep = DefaultSeparator
	}

	if len(c.Upstreams) == 0 {
		ps.add("upstreams", "at least one upstream is required")
	}
	seen := make(map[string]int, len(c.Upstreams))
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		at := "upstreams[" + strconv.Itoa(i) + "]"
		checkUpstream(&ps, at, u)
		if u.Name == "" || checkName(u.Name) != nil {
			continue
		}
		if first, dup := seen[u.Name]; dup {
			ps.add(at+".name", "duplicate %q (also upstreams[%d])", u.Name, first)
			continue
		}
		seen[u.Name] = i
		if sepOK {
			checkNameSeparator(&ps, at+".name", u.Name, sep)
		}
	}
	c.validateSecurity(&ps)
	c.validateProtocols(&ps)
	c.validateAdmin(&ps)
	c.validateStateless(&ps)
	c.validateMRTR(&ps)
	c.validateGC(&ps)
	return ps.err()
}

// checkUpstream reports the problems of one upstream that do not depend on
// the others.
func checkUpstream(ps *Problems, at string, u *Upstream) {
	if u.Name == "" {
		ps.add(at+".name", "required")
	} else if err := checkName(u.Name); err != nil {
		ps.add(at+".name", "%v", err)
	}
	switch u.Type {
	case "", TypeStdio:
		if u.Command == "" {
			ps.add(at+".command", "required for a stdio upstream")
		}
		noNUL(ps, at+".command", u.Command)
		for j, a := range u.Args {
			noNUL(ps, at+".args["+strconv.Itoa(j)+"]", a)
		}
		noNUL(ps, at+".dir", u.Dir)
		for _, k := range slices.Sorted(maps.Keys(u.Env)) {
			v := u.Env[k]
			if k == "" || strings.ContainsAny(k, "=\x00") {
				ps.add(at+".env", "invalid variable name %q", k)
			}
			noNUL(ps, at+".env."+k, v)
		}
		if u.URL != "" || len(u.Headers) > 0 {
			ps.add(at, "url and headers are for remote upstreams (type %q or %q)", TypeHTTP, TypeSSE)
		}
		if u.FallbackSSE {
			ps.add(at+".fallback_sse", "only for type %q", TypeHTTP)
		}
	case TypeHTTP, TypeSSE:
		checkRemote(ps, at, u)
	default:
		ps.add(at+".type", "unknown type %q (want %q, %q or %q)", u.Type, TypeStdio, TypeHTTP, TypeSSE)
	}
	nonNegativeDuration(ps, at+".call_timeout", u.CallTimeout)
	nonNegativeDuration(ps, at+".init_timeout", u.InitTimeout)
	minOK := nonNegativeDuration(ps, at+".restart_backoff.min", u.RestartBackoff.Min)
	maxOK := nonNegativeDuration(ps, at+".restart_backoff.max", u.RestartBackoff.Max)
	if minOK && maxOK && u.RestartBackoff.Max != 0 && u.RestartBackoff.Min > u.RestartBackoff.Max {
		ps.add(at+".restart_backoff", "min %v is longer than max %v", u.RestartBackoff.Min, u.RestartBackoff.Max)
	}
}

// checkName checks an upstream name's length and characters.
func checkName(name string) error {
	if len(name) > MaxNameLen {
		return fmt.Errorf("%q is longer than %d characters", name, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if b := name[i]; (b < 'a' || b > 'z') && (b < '0' || b > '9') && b != '-' {
			return fmt.Errorf("%q may contain only a-z, 0-9 and '-'", name)
		}
	}
	return nil
}

// checkNameSeparator checks that "name"+sep can be split back at the first
// occurrence of sep, which is how the relay finds the upstream of a
// namespaced name: name must not contain sep, nor end in a way that forms
// sep together with sep's start ("a-" with "--").
func checkNameSeparator(ps *Problems, at, name, sep string) {
	switch i := strings.Index(name+sep, sep); {
	case i == len(name):
	case strings.Contains(name, sep):
		ps.add(at, "%q contains the namespace separator %q", name, sep)
	default:
		ps.add(at, "%q followed by the namespace separator %q is ambiguous", name, sep)
	}
}

// checkSeparator checks the namespace separator. Namespaced names are tool
// and prompt names, so it may use only the characters MCP allows there
// (MCP 2025-11-25 server/tools §Tool Names: A-Z, a-z, 0-9, '_', '-', '.').
func checkSeparator(sep string) error {
	if len(sep) > 8 {
		return fmt.Errorf("%q is longer than 8 characters", sep)
	}
	for i := 0; i < len(sep); i++ {
		b := sep[i]
		if (b < 'a' || b > 'z') && (b < 'A' || b > 'Z') && (b < '0' || b > '9') && b != '_' && b != '-' && b != '.' {
			return fmt.Errorf("%q may contain only A-Z, a-z, 0-9, '_', '-' and '.' (the characters of MCP tool names)", sep)
		}
	}
	return nil
}

// checkListen checks a host:port listen address without resolving it.
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

func nonNegative[T int | int64](ps *Problems, at string, v T) {
	if v < 0 {
		ps.add(at, "must not be negative, got %d", v)
	}
}

func nonNegativeDuration(ps *Problems, at string, d time.Duration) bool {
	if d < 0 {
		ps.add(at, "must not be negative, got %v", d)
		return false
	}
	return true
}

func noNUL(ps *Problems, at, s string) {
	if strings.IndexByte(s, 0) >= 0 {
		ps.add(at, "contains a NUL byte")
	}
}
