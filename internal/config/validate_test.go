package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// valid returns a small valid configuration for tests to break.
func valid() *Config {
	return &Config{Upstreams: []Upstream{{Name: "fs", Command: "server-fs"}}}
}

func TestValidateRules(t *testing.T) {
	tests := []validateCase{
		{name: "minimal is valid", change: func(c *Config) {}},
		{name: "defaults are valid", change: func(c *Config) { c.SetDefaults() }},
		{name: "listen port 0 is valid", change: func(c *Config) { c.Listen = "127.0.0.1:0" }},
		{name: "listen all interfaces with auth and origins is valid", change: func(c *Config) {
			c.Listen = ":8080"
			c.Auth = Auth{Mode: AuthStatic, Tokens: []Token{{User: "a", Hash: "env:TOKEN"}}}
			c.AllowedOrigins = Origins{}
		}},
		{name: "listen all interfaces, insecure, is valid", change: func(c *Config) {
			c.Listen = ":8080"
			c.InsecureAllowUnprotectedNetwork = true
		}},
		{
			name:   "listen all interfaces unprotected",
			change: func(c *Config) { c.Listen = "0.0.0.0:8080" },
			want: []string{
				`auth.mode: listen "0.0.0.0:8080" is reachable from the network, so client authentication is required: set auth.mode to "static" or "passthrough" (or, for a trusted network only, insecure_allow_unprotected_network: true)`,
				`allowed_origins: listen "0.0.0.0:8080" is reachable from the network, so the browser origins allowed must be listed (allowed_origins: [] allows none; or, for a trusted network only, insecure_allow_unprotected_network: true)`,
			},
		},
		{name: "listen IPv6 is valid", change: func(c *Config) { c.Listen = "[::1]:8080" }},
		{
			name:   "listen without port",
			change: func(c *Config) { c.Listen = "localhost" },
			want:   []string{`listen: "localhost" is not host:port: address localhost: missing port in address`},
		},
		{
			name:   "listen port out of range",
			change: func(c *Config) { c.Listen = "127.0.0.1:70000" },
			want:   []string{`listen: "127.0.0.1:70000": port "70000" is not a number from 0 to 65535`},
		},
		{
			name:   "listen named port",
			change: func(c *Config) { c.Listen = "127.0.0.1:http" },
			want:   []string{`listen: "127.0.0.1:http": port "http" is not a number from 0 to 65535`},
		},
		{
			name: "negative limits",
			change: func(c *Config) {
				c.Sessions = Sessions{Max: -1, IdleTimeout: -time.Second}
				c.HTTP = HTTP{MaxBodyBytes: -1, HeartbeatInterval: -time.Second, ShutdownTimeout: -time.Second}
				c.EventLog = EventLog{MaxEventsPerStream: -1, MaxBytesPerStream: -1, MaxStreamsPerSession: -1}
			},
			want: []string{
				"sessions.max: must not be negative, got -1",
				"sessions.idle_timeout: must not be negative, got -1s",
				"http.max_body_bytes: must not be negative, got -1",
				"http.heartbeat_interval: must not be negative, got -1s",
				"http.shutdown_timeout: must not be negative, got -1s",
				"event_log.max_events_per_stream: must not be negative, got -1",
				"event_log.max_bytes_per_stream: must not be negative, got -1",
				"event_log.max_streams_per_session: must not be negative, got -1",
			},
		},
		{name: "separator of tool-name characters", change: func(c *Config) { c.Namespace.Separator = "." }},
		{
			name:   "separator with a slash",
			change: func(c *Config) { c.Namespace.Separator = "/" },
			want:   []string{`namespace.separator: "/" may contain only A-Z, a-z, 0-9, '_', '-' and '.' (the characters of MCP tool names)`},
		},
		{
			name:   "separator too long",
			change: func(c *Config) { c.Namespace.Separator = "_________" },
			want:   []string{`namespace.separator: "_________" is longer than 8 characters`},
		},
		{
			name:   "no upstreams",
			change: func(c *Config) { c.Upstreams = nil },
			want:   []string{"upstreams: at least one upstream is required"},
		},
		{
			name:   "name required",
			change: func(c *Config) { c.Upstreams[0].Name = "" },
			want:   []string{"upstreams[0].name: required"},
		},
		{
			name:   "name with capitals",
			change: func(c *Config) { c.Upstreams[0].Name = "FS" },
			want:   []string{`upstreams[0].name: "FS" may contain only a-z, 0-9 and '-'`},
		},
		{
			name:   "name with underscore",
			change: func(c *Config) { c.Upstreams[0].Name = "my_fs" },
			want:   []string{`upstreams[0].name: "my_fs" may contain only a-z, 0-9 and '-'`},
		},
		{
			name:   "name too long",
			change: func(c *Config) { c.Upstreams[0].Name = strings.Repeat("a", 65) },
			want:   []string{`upstreams[0].name: "` + strings.Repeat("a", 65) + `" is longer than 64 characters`},
		},
		{name: "name of 64 characters", change: func(c *Config) { c.Upstreams[0].Name = strings.Repeat("a", 64) }},
		{
			name: "duplicate name",
			change: func(c *Config) {
				c.Upstreams = append(c.Upstreams, Upstream{Name: "git", Command: "g"}, Upstream{Name: "fs", Command: "f2"})
			},
			want: []string{`upstreams[2].name: duplicate "fs" (also upstreams[0])`},
		},
		{
			name: "duplicate name even when disabled",
			change: func(c *Config) {
				c.Upstreams = append(c.Upstreams, Upstream{Name: "fs", Command: "f2", Disabled: true})
			},
			want: []string{`upstreams[1].name: duplicate "fs" (also upstreams[0])`},
		},
		{
			name: "name contains separator",
			change: func(c *Config) {
				c.Namespace.Separator = "-"
				c.Upstreams[0].Name = "my-fs"
			},
			want: []string{`upstreams[0].name: "my-fs" contains the namespace separator "-"`},
		},
		{
			name: "name contains a one-letter separator",
			change: func(c *Config) {
				c.Namespace.Separator = "x"
				c.Upstreams[0].Name = "box"
			},
			want: []string{`upstreams[0].name: "box" contains the namespace separator "x"`},
		},
		{
			name: "name ends ambiguously before separator",
			change: func(c *Config) {
				c.Namespace.Separator = "--"
				c.Upstreams[0].Name = "fs-"
			},
			want: []string{`upstreams[0].name: "fs-" followed by the namespace separator "--" is ambiguous`},
		},
		{name: "type stdio", change: func(c *Config) { c.Upstreams[0].Type = "stdio" }},
		{
			name: "type http",
			change: func(c *Config) {
				c.Upstreams[0] = Upstream{Name: "web", Type: "http", URL: "https://mcp.example.com/mcp",
					Headers: map[string]string{"X-Api-Key": "env:API_KEY", "X-Team": "blue"}}
			},
		},
		{
			name:   "type sse",
			change: func(c *Config) { c.Upstreams[0] = Upstream{Name: "old", Type: "sse", URL: "http://127.0.0.1:3001/sse"} },
		},
		{
			name:   "type http needs a url and no command",
			change: func(c *Config) { c.Upstreams[0].Type = "http" },
			want: []string{
				`upstreams[0].url: required for type "http"`,
				`upstreams[0]: command, args, env and dir are for stdio upstreams; type "http" has a url`,
			},
		},
		{
			name: "remote url and headers checked",
			change: func(c *Config) {
				c.Upstreams[0] = Upstream{Name: "web", Type: "sse", URL: "ftp://u:p@host/x",
					Headers: map[string]string{"Mcp-Session-Id": "x", "Bad Name": "x", "X-Ctl": "a\nb", "X-Ref": "env:1BAD"}}
			},
			want: []string{
				`upstreams[0].url: want an http:// or https:// URL`,
				`upstreams[0].headers.Bad Name: "Bad Name" is not a valid header name`,
				`upstreams[0].headers.Mcp-Session-Id: set by the gateway itself; it cannot be configured`,
				`upstreams[0].headers.X-Ctl: contains a control character`,
				`upstreams[0].headers.X-Ref: "env:1BAD": not a valid environment variable name`,
			},
		},
		{
			name:   "url with user info",
			change: func(c *Config) { c.Upstreams[0] = Upstream{Name: "web", Type: "http", URL: "https://u:secret@h/mcp"} },
			want:   []string{`upstreams[0].url: must not carry user info; put credentials in headers (env:/file:) or credential`},
		},
		{
			name:   "url on a stdio upstream",
			change: func(c *Config) { c.Upstreams[0].URL = "http://h/mcp" },
			want:   []string{`upstreams[0]: url and headers are for remote upstreams (type "http" or "sse")`},
		},
		{
			name:   "unknown type",
			change: func(c *Config) { c.Upstreams[0].Type = "grpc" },
			want:   []string{`upstreams[0].type: unknown type "grpc" (want "stdio", "http" or "sse")`},
		},
		{
			name:   "command required",
			change: func(c *Config) { c.Upstreams[0].Command = "" },
			want:   []string{"upstreams[0].command: required for a stdio upstream"},
		},
		{
			name: "NUL bytes",
			change: func(c *Config) {
				u := &c.Upstreams[0]
				u.Command, u.Args, u.Dir = "a\x00", []string{"ok", "b\x00"}, "/\x00"
				u.Env = map[string]string{"K": "v\x00"}
			},
			want: []string{
				"upstreams[0].command: contains a NUL byte",
				"upstreams[0].args[1]: contains a NUL byte",
				"upstreams[0].dir: contains a NUL byte",
				"upstreams[0].env.K: contains a NUL byte",
			},
		},
		{
			name:   "bad env names",
			change: func(c *Config) { c.Upstreams[0].Env = map[string]string{"": "x", "A=B": "y", "OK": "z"} },
			want: []string{
				`upstreams[0].env: invalid variable name ""`,
				`upstreams[0].env: invalid variable name "A=B"`,
			},
		},
		{
			name: "negative upstream durations",
			change: func(c *Config) {
				u := &c.Upstreams[0]
				u.CallTimeout, u.InitTimeout = -1, -time.Minute
				u.RestartBackoff = Backoff{Min: -time.Second, Max: -time.Second}
			},
			want: []string{
				"upstreams[0].call_timeout: must not be negative, got -1ns",
				"upstreams[0].init_timeout: must not be negative, got -1m0s",
				"upstreams[0].restart_backoff.min: must not be negative, got -1s",
				"upstreams[0].restart_backoff.max: must not be negative, got -1s",
			},
		},
		{
			name:   "backoff min above max",
			change: func(c *Config) { c.Upstreams[0].RestartBackoff = Backoff{Min: time.Minute, Max: time.Second} },
			want:   []string{"upstreams[0].restart_backoff: min 1m0s is longer than max 1s"},
		},
		{
			name:   "backoff min alone may exceed the default max",
			change: func(c *Config) { c.Upstreams[0].RestartBackoff = Backoff{Min: time.Hour} },
		},
	}
	runValidateCases(t, tests)
}

// TestValidateReportsAll checks that problems in many places come back
// together, joined into one message, and that errors.Is sees each cause.
func TestValidateReportsAll(t *testing.T) {
	c := &Config{
		Listen:   "nowhere",
		Sessions: Sessions{Max: -5},
		Upstreams: []Upstream{
			{Name: "fs", Command: "a"},
			{Name: "fs", Command: "b"},
			{Name: "Web", Type: "http"},
			{Command: "c", CallTimeout: -time.Second},
		},
	}
	err := c.Validate()
	want := `invalid configuration (7 problems):
	listen: "nowhere" is not host:port: address nowhere: missing port in address
	sessions.max: must not be negative, got -5
	upstreams[1].name: duplicate "fs" (also upstreams[0])
	upstreams[2].name: "Web" may contain only a-z, 0-9 and '-'
	upstreams[2].url: required for type "http"
	upstreams[3].name: required
	upstreams[3].call_timeout: must not be negative, got -1s`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() =\n%v\nwant\n%s", err, want)
	}
	var p *Problem
	if !errors.As(err, &p) || p.Path != "listen" {
		t.Errorf("errors.As(*Problem) = %v, want the first problem (listen)", p)
	}
}

func TestValidateHasNoSideEffects(t *testing.T) {
	c := valid()
	c.Upstreams = append(c.Upstreams, Upstream{Name: "fs", Env: map[string]string{"A=": "x"}})
	before := *c
	before.Upstreams = append([]Upstream(nil), c.Upstreams...)
	if err := c.Validate(); err == nil {
		t.Fatal("Validate() = nil, want problems")
	}
	if diff := cmp.Diff(&before, c); diff != "" {
		t.Errorf("Validate changed the config (-before +after):\n%s", diff)
	}
}

func TestProblemsFormatting(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "one", err: Problems{{Path: "listen", Err: errors.New("bad")}}, want: "invalid configuration: listen: bad"},
		{name: "file and line", err: &Problem{File: "a.yaml", Line: 3, Path: "x", Err: errors.New("bad")}, want: "a.yaml:3: x: bad"},
		{name: "file only", err: &Problem{File: "a.yaml", Err: errors.New("bad")}, want: "a.yaml: bad"},
		{name: "line only", err: &Problem{Line: 3, Err: errors.New("bad")}, want: "line 3: bad"},
		{name: "none", err: Problems{}, want: "invalid configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSetDefaults(t *testing.T) {
	c := &Config{Upstreams: []Upstream{
		{Name: "a", Command: "x"},
		{Name: "b", Command: "y", RestartBackoff: Backoff{Min: time.Minute}},
	}}
	c.SetDefaults()
	want := &Config{
		Listen:    DefaultListen,
		Info:      Info{Name: "mcpgate"},
		Sessions:  Sessions{Max: 10000, IdleTimeout: 30 * time.Minute},
		HTTP:      HTTP{MaxBodyBytes: 4 << 20, HeartbeatInterval: 15 * time.Second, ShutdownTimeout: 10 * time.Second},
		EventLog:  EventLog{MaxEventsPerStream: 1024, MaxBytesPerStream: 1 << 20, MaxStreamsPerSession: 128},
		Namespace: Namespace{Separator: "__"},
		Auth:      Auth{Mode: "none", Realm: "mcpgate"},
		CORS:      CORS{MaxAge: 10 * time.Minute},
		Limits: Limits{MaxConcurrentCallsPerSession: 64, MaxProcesses: 256, MaxProcessesPerUser: 4,
			StatelessInFlightPerUser: 256, ListensPerUser: 1000, MaxListens: 1000},
		Caching: Caching{MaxTTL: time.Minute, LegacyListTTL: time.Minute},
		MRTR:    MRTR{ParkTimeout: 10 * time.Minute, MaxParked: 1000, MaxParkedPerUser: 20},
		GC:      GC{MinHeadroomBytes: DefaultGCMinHeadroom},
		Upstreams: []Upstream{
			{Name: "a", Type: "stdio", Command: "x", CallTimeout: time.Minute, InitTimeout: 30 * time.Second,
				RestartBackoff: Backoff{Min: 250 * time.Millisecond, Max: 30 * time.Second}, Credential: Credential{Type: "none"}},
			{Name: "b", Type: "stdio", Command: "y", CallTimeout: time.Minute, InitTimeout: 30 * time.Second,
				RestartBackoff: Backoff{Min: time.Minute, Max: time.Minute}, Credential: Credential{Type: "none"}},
		},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("SetDefaults mismatch (-want +got):\n%s", diff)
	}
	again := *c
	again.Upstreams = append([]Upstream(nil), c.Upstreams...)
	again.SetDefaults()
	if diff := cmp.Diff(c, &again); diff != "" {
		t.Errorf("SetDefaults is not idempotent (-once +twice):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate after SetDefaults: %v", err)
	}
}

func TestEnabled(t *testing.T) {
	c := &Config{Upstreams: []Upstream{{Name: "a"}, {Name: "b", Disabled: true}, {Name: "c"}}}
	var got []string
	for _, u := range c.Enabled() {
		got = append(got, u.Name)
	}
	if diff := cmp.Diff([]string{"a", "c"}, got); diff != "" {
		t.Errorf("Enabled mismatch (-want +got):\n%s", diff)
	}
}
