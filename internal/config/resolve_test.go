package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	fileA := filepath.Join(dir, "a.yaml")
	writeFile(t, fileA, "listen: 127.0.0.1:7000\nupstreams:\n  - name: a\n    command: server-a\n")
	fileB := filepath.Join(dir, "b.yaml")
	writeFile(t, fileB, "upstreams:\n  - name: b\n    command: server-b\n")

	tests := []struct {
		name       string
		src        Source
		env        map[string]string
		wantListen string
		wantUp     []Upstream // names, commands and args only
	}{
		{
			name:       "bare mcpgate: demo upstream",
			src:        Source{Executable: "/opt/mcpgate"},
			wantListen: "127.0.0.1:8080",
			wantUp:     []Upstream{{Name: "demo", Command: "/opt/mcpgate", Args: []string{"demo-server"}}},
		},
		{
			name:       "listen flag",
			src:        Source{Executable: "/opt/mcpgate", Listen: "127.0.0.1:9000"},
			wantListen: "127.0.0.1:9000",
			wantUp:     []Upstream{{Name: "demo", Command: "/opt/mcpgate", Args: []string{"demo-server"}}},
		},
		{
			name:       "listen env beats file",
			src:        Source{ConfigFile: fileA},
			env:        map[string]string{EnvListen: "127.0.0.1:7100"},
			wantListen: "127.0.0.1:7100",
			wantUp:     []Upstream{{Name: "a", Command: "server-a"}},
		},
		{
			name:       "listen flag beats env",
			src:        Source{ConfigFile: fileA, Listen: "127.0.0.1:7200"},
			env:        map[string]string{EnvListen: "127.0.0.1:7100"},
			wantListen: "127.0.0.1:7200",
			wantUp:     []Upstream{{Name: "a", Command: "server-a"}},
		},
		{
			name:       "empty env counts as unset",
			src:        Source{ConfigFile: fileA},
			env:        map[string]string{EnvListen: "", EnvConfig: ""},
			wantListen: "127.0.0.1:7000",
			wantUp:     []Upstream{{Name: "a", Command: "server-a"}},
		},
		{
			name:       "config from env",
			src:        Source{Executable: "/opt/mcpgate"},
			env:        map[string]string{EnvConfig: fileB},
			wantListen: "127.0.0.1:8080",
			wantUp:     []Upstream{{Name: "b", Command: "server-b"}},
		},
		{
			name:       "config flag beats env",
			src:        Source{ConfigFile: fileA},
			env:        map[string]string{EnvConfig: fileB},
			wantListen: "127.0.0.1:7000",
			wantUp:     []Upstream{{Name: "a", Command: "server-a"}},
		},
		{
			name:       "stdio beats config env",
			src:        Source{Stdio: `npx -y "@scope/server x" --root '/srv/my files'`, Listen: "127.0.0.1:0"},
			env:        map[string]string{EnvConfig: fileB},
			wantListen: "127.0.0.1:0",
			wantUp:     []Upstream{{Name: "stdio", Command: "npx", Args: []string{"-y", "@scope/server x", "--root", "/srv/my files"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.LookupEnv = mapEnv(tt.env)
			c, err := Resolve(tt.src)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if c.Listen != tt.wantListen {
				t.Errorf("Listen = %q, want %q", c.Listen, tt.wantListen)
			}
			var got []Upstream
			for _, u := range c.Upstreams {
				if u.Type != TypeStdio || u.CallTimeout != DefaultCallTimeout {
					t.Errorf("upstream %q: defaults not set: %+v", u.Name, u)
				}
				got = append(got, Upstream{Name: u.Name, Command: u.Command, Args: u.Args})
			}
			if diff := cmp.Diff(tt.wantUp, got); diff != "" {
				t.Errorf("upstreams mismatch (-want +got):\n%s", diff)
			}
			if c.Sessions.Max != DefaultMaxSessions {
				t.Errorf("Sessions.Max = %d, want the default %d", c.Sessions.Max, DefaultMaxSessions)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "listen: 127.0.0.1:7000\nupstreams:\n  - name: a\n    command: x\n  - name: B\n    type: sse\n")

	tests := []struct {
		name string
		src  Source
		env  map[string]string
		want []string // each Problem's Error()
	}{
		{
			name: "config and stdio together",
			src:  Source{ConfigFile: bad, Stdio: "x"},
			want: []string{"--stdio: cannot be used together with --config"},
		},
		{
			name: "stdio unterminated quote",
			src:  Source{Stdio: `server "oops`},
			want: []string{"--stdio: splitting stdio command: unterminated double quote at offset 7"},
		},
		{
			name: "stdio empty",
			src:  Source{Stdio: "   "},
			want: []string{"--stdio: splitting stdio command: empty command"},
		},
		{
			name: "bad listen flag and env, with file problems at their lines",
			src:  Source{ConfigFile: bad, Listen: "nope"},
			env:  map[string]string{EnvListen: "127.0.0.1:99999"},
			want: []string{
				`$MCPGATE_LISTEN: "127.0.0.1:99999": port "99999" is not a number from 0 to 65535`,
				`--listen: "nope" is not host:port: address nope: missing port in address`,
				bad + `:5: upstreams[1].name: "B" may contain only a-z, 0-9 and '-'`,
				bad + `:5: upstreams[1].url: required for type "sse"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.LookupEnv = mapEnv(tt.env)
			c, err := Resolve(tt.src)
			if c != nil {
				t.Errorf("Resolve returned a config with an error")
			}
			if diff := cmp.Diff(tt.want, problemTexts(t, "Resolve", err)); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		_, err := Resolve(Source{ConfigFile: filepath.Join(dir, "none.yaml"), LookupEnv: mapEnv(nil)})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Resolve = %v, want an error wrapping fs.ErrNotExist", err)
		}
	})
	t.Run("missing file named by the environment", func(t *testing.T) {
		_, err := Resolve(Source{LookupEnv: mapEnv(map[string]string{EnvConfig: filepath.Join(dir, "none.yaml")})})
		if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "$MCPGATE_CONFIG: ") {
			t.Errorf("Resolve = %v, want an error naming $MCPGATE_CONFIG and wrapping fs.ErrNotExist", err)
		}
	})
	t.Run("no executable for the demo", func(t *testing.T) {
		if _, err := Resolve(Source{LookupEnv: mapEnv(nil)}); err == nil {
			t.Error("Resolve = nil error, want one")
		}
	})
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}
