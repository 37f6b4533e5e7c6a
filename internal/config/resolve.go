package config

import (
	"errors"
	"fmt"
	"os"
)

// Environment variables that override the configuration. A set variable
// beats the config file; a command-line flag beats the variable. An empty
// variable counts as unset.
const (
	// EnvListen overrides Config.Listen, like --listen.
	EnvListen = "MCPGATE_LISTEN"
	// EnvConfig names the config file to load when neither --config nor
	// --stdio is given.
	EnvConfig = "MCPGATE_CONFIG"
)

// Source is what the command line said, plus what Resolve needs from the
// process. The zero value (with Executable set) is a bare `mcpgate`.
type Source struct {
	// Listen is --listen; empty means not given.
	Listen string
	// ConfigFile is --config, a YAML file; empty means not given.
	ConfigFile string
	// Stdio is --stdio, a one-line command for a single stdio upstream
	// (see Stdio); empty means not given. It excludes ConfigFile.
	Stdio string
	// HTTP is --http, the URL of one remote Streamable HTTP upstream, and
	// SSE is --sse, the SSE URL of one remote HTTP+SSE upstream (see
	// Remote); empty means not given. Each excludes ConfigFile, Stdio and
	// the other.
	HTTP, SSE string
	// Executable is the path of the running mcpgate binary
	// (os.Executable), which the default configuration's demo upstream
	// runs. Required when neither ConfigFile, Stdio nor EnvConfig gives a
	// configuration.
	Executable string
	// LookupEnv reads the environment. Nil means os.LookupEnv.
	LookupEnv func(key string) (string, bool)
}

// Resolve builds the configuration the gateway runs with, from, in rising
// precedence: defaults; the config file (--config, else $MCPGATE_CONFIG),
// or --stdio, or the built-in demo upstream; $MCPGATE_LISTEN; --listen.
// The result has its defaults set, is valid, and has its secrets read
// (ResolveSecrets).
//
// Every problem found is returned at once, as Problems, with the file and
// line of each where it has one; an unreadable file is an error wrapping
// the file system's. Either way the command should print the error and
// exit with status 2.
func Resolve(src Source) (*Config, error) {
	lookup := src.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	env := func(key string) string {
		v, _ := lookup(key)
		return v
	}

	var (
		c     *Config
		file  string
		lines map[string]int
		err   error
	)
	switch {
	case src.ConfigFile != "" && src.Stdio != "":
		return nil, Problems{{Path: "--stdio", Err: errors.New("cannot be used together with --config")}}
	case src.Stdio != "" && (src.HTTP != "" || src.SSE != ""):
		return nil, Problems{{Path: "--stdio", Err: errors.New("--config, --stdio, --http and --sse exclude each other")}}
	case src.Stdio != "":
		if c, err = Stdio(src.Stdio); err != nil {
			return nil, Problems{{Path: "--stdio", Err: err}}
		}
	case src.HTTP != "" || src.SSE != "":
		flag, typ, url := "--http", TypeHTTP, src.HTTP
		if src.SSE != "" {
			flag, typ, url = "--sse", TypeSSE, src.SSE
		}
		if n := nonEmpty(src.ConfigFile, src.HTTP, src.SSE); n > 1 {
			return nil, Problems{{Path: flag, Err: errors.New("--config, --stdio, --http and --sse exclude each other")}}
		}
		c = Remote(typ, url)
	case src.ConfigFile != "" || env(EnvConfig) != "":
		file = src.ConfigFile
		if file == "" {
			file = env(EnvConfig)
		}
		if c, lines, err = load(file); err != nil {
			if src.ConfigFile == "" && AsProblems(err) == nil {
				err = fmt.Errorf("$%s: %w", EnvConfig, err)
			}
			return nil, err
		}
	default:
		if src.Executable == "" {
			return nil, errors.New("resolving configuration: no executable for the demo upstream")
		}
		c = Default(src.Executable)
	}

	var ps Problems
	override := func(from, value string) {
		if value == "" {
			return
		}
		if err := checkListen(value); err != nil {
			ps = append(ps, &Problem{Path: from, Err: err})
			return
		}
		c.Listen = value
	}
	override("$"+EnvListen, env(EnvListen))
	override("--listen", src.Listen)

	c.SetDefaults()
	if err := c.Validate(); err != nil {
		vps := err.(Problems)
		vps.locate(file, lines)
		ps = append(ps, vps...)
	}
	if len(ps) > 0 {
		return nil, ps
	}
	// Secrets are read last, from a configuration known to be valid.
	if err := c.ResolveSecrets(SecretReader{LookupEnv: lookup}); err != nil {
		sps := err.(Problems)
		sps.locate(file, lines)
		return nil, sps
	}
	return c, nil
}
