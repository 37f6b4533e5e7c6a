package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"
)

const exampleFile = "testdata/example.yaml"

// exampleConfig is testdata/example.yaml as written (before SetDefaults).
var exampleConfig = &Config{
	Listen:         "127.0.0.1:8080",
	PublicHosts:    []string{"mcp.example.com"},
	AllowedOrigins: Origins{"https://app.example.com"},
	Info:           Info{Name: "mcpgate", Version: "1.0.0"},
	Auth: Auth{Mode: "static", Realm: "mcpgate", Tokens: []Token{
		{User: "alice", Role: "admin", Hash: "sha256:1a481d19b46f06048ff6051d3e89053bba986cfd869a79e8d8edaa954c20f2ce"},
		{User: "ci", Role: "readonly", Hash: "env:MCPGATE_CI_TOKEN"},
	}},
	CORS: CORS{MaxAge: 10 * time.Minute},
	Limits: Limits{RequestsPerMinute: 1200, MaxConcurrentCallsPerSession: 64, MaxProcesses: 256, MaxProcessesPerUser: 4,
		StatelessInFlightPerUser: 256, ListensPerUser: 32, MaxListens: 1000},
	Caching:  Caching{MaxTTL: time.Minute, LegacyListTTL: time.Minute},
	Sessions: Sessions{Max: 10000, MaxPerUser: 1000, IdleTimeout: 30 * time.Minute},
	HTTP: HTTP{
		MaxBodyBytes:      4 << 20,
		HeartbeatInterval: 15 * time.Second,
		ShutdownTimeout:   10 * time.Second,
	},
	Admin:     Admin{Listen: "127.0.0.1:8081", Token: "env:MCPGATE_ADMIN_TOKEN"},
	EventLog:  EventLog{MaxEventsPerStream: 1024, MaxBytesPerStream: 1 << 20, MaxStreamsPerSession: 128},
	Namespace: Namespace{Separator: "__"},
	Upstreams: []Upstream{
		{
			Name:           "fs",
			Type:           "stdio",
			Command:        "npx",
			Args:           []string{"-y", "@modelcontextprotocol/server-filesystem", "/srv/shared"},
			Env:            map[string]string{"NODE_OPTIONS": "--max-old-space-size=256"},
			Dir:            "/srv",
			CallTimeout:    time.Minute,
			InitTimeout:    30 * time.Second,
			RestartBackoff: Backoff{Min: 250 * time.Millisecond, Max: 30 * time.Second},
		},
		{
			Name:    "github",
			Command: "github-mcp-server",
			Args:    []string{"stdio"},
			Credential: Credential{Type: "static", Value: "env:MCPGATE_GITHUB_TOKEN",
				Env: "GITHUB_PERSONAL_ACCESS_TOKEN"},
		},
		{
			Name:        "git",
			Command:     "uvx",
			Args:        []string{"mcp-server-git", "--repository", "/srv/repo"},
			CallTimeout: 2 * time.Minute,
			PerUser:     true,
			Credential: Credential{Type: "per_user", Users: map[string]SecretRef{"alice": "file:/run/secrets/git-alice"},
				Env: "GIT_TOKEN"},
		},
		{Name: "scratch", Command: "./bin/scratch-server", Disabled: true},
	},
}

func TestParseExample(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data, exampleFile)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if diff := cmp.Diff(exampleConfig, got); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// TestExampleInDocs keeps docs/configuration.md showing the example that
// the tests parse.
func TestExampleInDocs(t *testing.T) {
	example, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+string(example)+"```\n") {
		t.Errorf("docs/configuration.md does not show %s verbatim in a ```yaml block; copy it there", exampleFile)
	}
}

func TestLoadSetsDefaults(t *testing.T) {
	got, err := Load(exampleFile)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := *exampleConfig
	want.Upstreams = append([]Upstream(nil), exampleConfig.Upstreams...)
	for i := 1; i < len(want.Upstreams); i++ {
		u := &want.Upstreams[i]
		u.Type = TypeStdio
		u.InitTimeout = DefaultInitTimeout
		u.RestartBackoff = Backoff{Min: DefaultBackoffMin, Max: DefaultBackoffMax}
		if u.CallTimeout == 0 {
			u.CallTimeout = DefaultCallTimeout
		}
	}
	want.MRTR = MRTR{ParkTimeout: DefaultParkTimeout, MaxParked: DefaultMaxParked, MaxParkedPerUser: DefaultMaxParkedPerUser}
	want.GC = GC{MinHeadroomBytes: DefaultGCMinHeadroom}
	for i := range want.Upstreams {
		if u := &want.Upstreams[i]; u.Credential.Type == "" {
			u.Credential.Type = CredentialNone
		}
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an error wrapping fs.ErrNotExist", err)
	}

	path := filepath.Join(dir, "bad.yaml")
	writeFile(t, path, "listen: 127.0.0.1:8080\nupstreams:\n  - name: fs\n    command: a\n  - name: fs\n    command: b\n")
	_, err = Load(path)
	want := path + `:5: upstreams[1].name: duplicate "fs" (also upstreams[0])`
	if ps := AsProblems(err); len(ps) != 1 || ps[0].Error() != want {
		t.Errorf("Load(dup) = %v, want one problem %q", err, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each Problem's Error(), in order
	}{
		{
			name: "unknown top-level key",
			yaml: "listen: :8080\nlisten_addr: :9090\n",
			want: []string{`f.yaml:2: listen_addr: unknown key "listen_addr" (did you mean "listen"?)`},
		},
		{
			name: "unknown nested key in camelCase",
			yaml: "sessions:\n  idleTimeout: 5m\n",
			want: []string{`f.yaml:2: sessions.idleTimeout: unknown key "idleTimeout" (did you mean "idle_timeout"?)`},
		},
		{
			name: "unknown upstream key without suggestion",
			yaml: "upstreams:\n  - name: a\n    command: x\n  - name: b\n    command: y\n    zzzzzzzz: 1\n",
			want: []string{`f.yaml:6: upstreams[1].zzzzzzzz: unknown key "zzzzzzzz"`},
		},
		{
			name: "several unknown keys, in line order",
			yaml: "http:\n  max_body: 1\nupstreams:\n  - name: a\n    comand: x\n    restart_backoff:\n      minimum: 1s\n",
			want: []string{
				`f.yaml:2: http.max_body: unknown key "max_body" (did you mean "max_body_bytes"?)`,
				`f.yaml:5: upstreams[0].comand: unknown key "comand" (did you mean "command"?)`,
				`f.yaml:7: upstreams[0].restart_backoff.minimum: unknown key "minimum" (did you mean "min"?)`,
			},
		},
		{
			name: "duration without unit",
			yaml: "sessions:\n  idle_timeout: 30\n",
			want: []string{`f.yaml:2: sessions.idle_timeout: want a duration with a unit, such as "500ms", "30s" or "15m", got "30"`},
		},
		{
			name: "bad duration",
			yaml: "upstreams:\n  - name: a\n    call_timeout: soon\n",
			want: []string{`f.yaml:3: upstreams[0].call_timeout: want a duration with a unit, such as "500ms", "30s" or "15m", got "soon"`},
		},
		{
			name: "wrong types",
			yaml: "sessions:\n  max: lots\nnamespace:\n  prefix_single: maybe\nupstreams:\n  - name: a\n    args: -x\n",
			want: []string{
				`f.yaml:2: sessions.max: want a whole number, got "lots"`,
				`f.yaml:4: namespace.prefix_single: want true or false, got "maybe"`,
				`f.yaml:7: upstreams[0].args: want a list, got "-x"`,
			},
		},
		{
			name: "upstreams not a list",
			yaml: "upstreams:\n  name: a\n",
			want: []string{`f.yaml:2: upstreams: want a list, got a mapping`},
		},
		{
			name: "duplicate key",
			yaml: "listen: :1\nlisten: :2\n",
			want: []string{`f.yaml:2: listen: mapping key "listen" already defined at line 1`},
		},
		{
			name: "syntax error",
			yaml: "listen: :1\n  bad indent: [\n",
			want: []string{`f.yaml:2: invalid YAML: mapping values are not allowed in this context`},
		},
		{
			name: "two documents",
			yaml: "listen: :1\n---\nlisten: :2\n",
			want: []string{`f.yaml:2: more than one YAML document; a config file holds one`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "f.yaml")
			if c != nil {
				t.Errorf("Parse returned a config with an error")
			}
			if diff := cmp.Diff(tt.want, problemTexts(t, "Parse", err)); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want *Config
	}{
		{name: "empty", yaml: "", want: &Config{}},
		{name: "comment only", yaml: "# nothing\n", want: &Config{}},
		{
			name: "anchors and merge keys",
			yaml: "base: &b\n  command: x\n  call_timeout: 5s\n",
			want: nil, // "base" is unknown: anchors must live in known keys
		},
		{
			name: "merge key inside upstreams",
			yaml: "upstreams:\n  - &a {name: a, command: x, call_timeout: 5s}\n  - <<: *a\n    name: b\n",
			want: &Config{Upstreams: []Upstream{
				{Name: "a", Command: "x", CallTimeout: 5 * time.Second},
				{Name: "b", Command: "x", CallTimeout: 5 * time.Second},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.yaml), "f.yaml")
			if tt.want == nil {
				if err == nil {
					t.Fatalf("Parse = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMarshalRoundTrip checks that a resolved configuration written as YAML
// (durations as strings) parses back to itself.
func TestMarshalRoundTrip(t *testing.T) {
	want, err := Load(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "idle_timeout: 30m0s") {
		t.Errorf("marshalled YAML does not write durations as strings:\n%s", data)
	}
	got, err := Parse(data, "marshalled")
	if err != nil {
		t.Fatalf("Parse(marshalled): %v\n%s", err, data)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

// FuzzParse checks that no input makes Parse or Validate panic, and that
// whatever Parse accepts survives a YAML round trip unchanged.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(exampleFile); err == nil {
		f.Add(string(data))
	}
	f.Add("upstreams:\n  - &a {name: a, command: x}\n  - <<: *a\n    name: b\n")
	f.Add("sessions: {max: 1, idle_timeout: 1h}\nhttp: {max_body_bytes: 1}\n")
	f.Add("a: &x [*x]\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse([]byte(in), "f.yaml")
		if err != nil {
			if AsProblems(err) == nil {
				t.Fatalf("Parse error %v is not Problems", err)
			}
			return
		}
		_ = c.Validate()
		data, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := Parse(data, "again.yaml")
		if err != nil {
			t.Fatalf("Parse(Marshal(%q)): %v\n%s", in, err, data)
		}
		if diff := cmp.Diff(c, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip of %q (-first +again):\n%s", in, diff)
		}
	})
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
