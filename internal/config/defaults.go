package config

import (
	"fmt"
	"time"
)

// Defaults for the zero values of Config's fields.
const (
	DefaultListen               = "127.0.0.1:8080"
	DefaultName                 = "mcpgate"
	DefaultMaxSessions          = 10000
	DefaultIdleTimeout          = 30 * time.Minute
	DefaultMaxBodyBytes         = 4 << 20
	DefaultHeartbeatInterval    = 15 * time.Second
	DefaultShutdownTimeout      = 10 * time.Second
	DefaultMaxEventsPerStream   = 1024
	DefaultMaxBytesPerStream    = 1 << 20
	DefaultMaxStreamsPerSession = 128
	DefaultSeparator            = "__"
	DefaultCallTimeout          = 60 * time.Second
	DefaultInitTimeout          = 30 * time.Second
	DefaultBackoffMin           = 250 * time.Millisecond
	DefaultBackoffMax           = 30 * time.Second
)

// Names of the upstreams that Default and Stdio create.
const (
	DemoUpstreamName  = "demo"
	StdioUpstreamName = "stdio"
)

// DemoSubcommand is the mcpgate subcommand that serves the demo upstream.
const DemoSubcommand = "demo-server"

// Default returns the configuration of a bare `mcpgate`: every default, and
// one stdio upstream named "demo" that runs `executable demo-server`.
// executable is the path of the running mcpgate binary (os.Executable).
// The result has its defaults set but is not validated.
func Default(executable string) *Config {
	c := &Config{Upstreams: []Upstream{{
		Name:    DemoUpstreamName,
		Type:    TypeStdio,
		Command: executable,
		Args:    []string{DemoSubcommand},
	}}}
	c.SetDefaults()
	return c
}

// Stdio returns the configuration of `mcpgate serve --stdio CMDLINE`: every
// default, and one stdio upstream named "stdio" running cmdline, which is
// split into words as a POSIX shell would (see SplitWords). The result has
// its defaults set but is not validated.
func Stdio(cmdline string) (*Config, error) {
	words, err := SplitWords(cmdline)
	if err != nil {
		return nil, fmt.Errorf("splitting stdio command: %w", err)
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("splitting stdio command: %w", errEmptyCommand)
	}
	c := &Config{Upstreams: []Upstream{{
		Name:    StdioUpstreamName,
		Type:    TypeStdio,
		Command: words[0],
		Args:    words[1:],
	}}}
	c.SetDefaults()
	return c, nil
}

// SetDefaults replaces every zero value that stands for a default with that
// default. It leaves invalid values (negative durations, say) for Validate
// to report, and Info.Version empty for the gateway to fill in.
func (c *Config) SetDefaults() {
	setDefault(&c.Listen, DefaultListen)
	setDefault(&c.Info.Name, DefaultName)
	setDefault(&c.Sessions.Max, DefaultMaxSessions)
	setDefault(&c.Sessions.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.HTTP.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&c.HTTP.HeartbeatInterval, DefaultHeartbeatInterval)
	setDefault(&c.HTTP.ShutdownTimeout, DefaultShutdownTimeout)
	setDefault(&c.EventLog.MaxEventsPerStream, DefaultMaxEventsPerStream)
	setDefault(&c.EventLog.MaxBytesPerStream, DefaultMaxBytesPerStream)
	setDefault(&c.EventLog.MaxStreamsPerSession, DefaultMaxStreamsPerSession)
	setDefault(&c.Namespace.Separator, DefaultSeparator)
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		setDefault(&u.Type, TypeStdio)
		setDefault(&u.CallTimeout, DefaultCallTimeout)
		setDefault(&u.InitTimeout, DefaultInitTimeout)
		setDefault(&u.RestartBackoff.Min, DefaultBackoffMin)
		setDefault(&u.RestartBackoff.Max, max(DefaultBackoffMax, u.RestartBackoff.Min))
	}
	c.setSecurityDefaults()
	c.setAdminDefaults()
	c.setStatelessDefaults()
	c.setMRTRDefaults()
	c.setGCDefaults()
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}
