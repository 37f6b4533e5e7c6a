package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// maxSecretFile bounds a secret file's size.
const maxSecretFile = 64 << 10

// SecretReader reads the places secrets come from. Nil fields mean
// os.LookupEnv and os.ReadFile.
type SecretReader struct {
	LookupEnv func(key string) (string, bool)
	ReadFile  func(path string) ([]byte, error)
}

// ResolveSecrets reads every secret c refers to and keeps it out of sight:
// the digest of each static token (Token.Digest, from "sha256:…" or an
// environment variable holding the token or its digest), and the
// credentials of enabled upstreams (Credential.Secret, and
// Credential.UserSecrets for per-user ones) from "env:" and "file:"
// references. Run it on a valid configuration; Resolve does. It reports
// every problem at once, as Problems, and never includes a secret in them:
// an unset or empty variable, an unreadable or empty file, a token too
// short to be safe.
func (c *Config) ResolveSecrets(r SecretReader) error {
	if r.LookupEnv == nil {
		r.LookupEnv = os.LookupEnv
	}
	if r.ReadFile == nil {
		r.ReadFile = os.ReadFile
	}
	var ps Problems
	for i := range c.Auth.Tokens {
		t := &c.Auth.Tokens[i]
		at := "auth.tokens[" + strconv.Itoa(i) + "].hash"
		d, err := resolveDigest(r, t.Hash)
		if err != nil {
			ps.add(at, "%v", err)
			continue
		}
		t.Digest = d
	}
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		if u.Disabled {
			continue
		}
		at := "upstreams[" + strconv.Itoa(i) + "].credential"
		cr := &u.Credential
		switch cr.Type {
		case CredentialStatic:
			s, err := r.read(cr.Value)
			if err != nil {
				ps.add(at+".value", "%v", err)
				continue
			}
			cr.Secret = s
		case CredentialPerUser:
			cr.UserSecrets = make(map[string]secret.String, len(cr.Users))
			for _, user := range sortedKeys(cr.Users) {
				s, err := r.read(cr.Users[user])
				if err != nil {
					ps.add(at+".users."+user, "%v", err)
					continue
				}
				cr.UserSecrets[user] = s
			}
		}
	}
	c.resolveHeaderSecrets(r, &ps)
	c.resolveAdminSecret(r, &ps)
	c.resolveOAuthSecrets(r, &ps)
	c.resolveMRTRSecret(r, &ps)
	return ps.err()
}

// resolveDigest turns a token's Hash into its digest.
func resolveDigest(r SecretReader, ref SecretRef) (secret.Digest, error) {
	h := string(ref)
	if strings.HasPrefix(h, RefSHA256) {
		return secret.ParseDigest(h)
	}
	name, ok := strings.CutPrefix(h, RefEnv)
	if !ok {
		return secret.Digest{}, errors.New(`want "sha256:<hex>" or "env:NAME"`)
	}
	v, ok := r.LookupEnv(name)
	if !ok || v == "" {
		return secret.Digest{}, fmt.Errorf("$%s is not set", name)
	}
	if strings.HasPrefix(v, RefSHA256) {
		d, err := secret.ParseDigest(v)
		if err != nil {
			return d, fmt.Errorf("$%s: %w", name, err)
		}
		return d, nil
	}
	if err := secret.CheckToken(v); err != nil {
		return secret.Digest{}, fmt.Errorf("$%s: %w", name, err)
	}
	return secret.DigestOf(v), nil
}

// read reads an "env:" or "file:" reference.
func (r SecretReader) read(ref SecretRef) (secret.String, error) {
	s := string(ref)
	if name, ok := strings.CutPrefix(s, RefEnv); ok {
		v, ok := r.LookupEnv(name)
		if !ok || v == "" {
			return secret.String{}, fmt.Errorf("$%s is not set", name)
		}
		return secret.New(v), nil
	}
	path, ok := strings.CutPrefix(s, RefFile)
	if !ok {
		return secret.String{}, errors.New(`want "env:NAME" or "file:/path"`)
	}
	data, err := r.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return secret.String{}, fmt.Errorf("reading %s: no such file", path)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return secret.String{}, fmt.Errorf("reading %s: %w", path, err)
	case len(data) > maxSecretFile:
		return secret.String{}, fmt.Errorf("reading %s: larger than %d bytes", path, maxSecretFile)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if v == "" {
		return secret.String{}, fmt.Errorf("reading %s: empty", path)
	}
	return secret.New(v), nil
}
