package config

import (
	"bytes"
	"testing"
	"time"
)

func TestValidateMRTR(t *testing.T) {
	tests := []validateCase{
		{name: "set is valid", change: func(c *Config) {
			c.MRTR = MRTR{StateKey: "env:MRTR_KEY", ParkTimeout: time.Minute, MaxParked: 10, MaxParkedPerUser: 2}
		}},
		{name: "all wrong at once", change: func(c *Config) {
			c.MRTR = MRTR{StateKey: "c2VjcmV0", ParkTimeout: -time.Second, MaxParked: -1, MaxParkedPerUser: -1}
		}, want: []string{
			`mrtr.state_key: want "env:NAME" or "file:/path"; secrets are never written in the configuration`,
			"mrtr.park_timeout: must not be negative, got -1s",
			"mrtr.max_parked: must not be negative, got -1",
			"mrtr.max_parked_per_user: must not be negative, got -1",
		}},
		{name: "too long", change: func(c *Config) { c.MRTR.ParkTimeout = 25 * time.Hour },
			want: []string{"mrtr.park_timeout: must be at most 24h0m0s, got 25h0m0s"}},
		{name: "per user above all", change: func(c *Config) { c.MRTR.MaxParked, c.MRTR.MaxParkedPerUser = 2, 3 },
			want: []string{"mrtr.max_parked_per_user: 3 is more than mrtr.max_parked (2)"}},
	}
	runValidateCases(t, tests)
}

func TestResolveMRTRKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name    string
		env     string // $MRTR_KEY; "" unset
		want    []byte
		wantErr string
	}{
		{name: "base64 32 bytes", env: "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n", want: key},
		{name: "too short", env: "c2hvcnQ=", wantErr: "invalid configuration: mrtr.state_key: want 32 bytes, base64 (openssl rand -base64 32)"},
		{name: "unset", wantErr: "invalid configuration: mrtr.state_key: $MRTR_KEY is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			c.MRTR.StateKey = "env:MRTR_KEY"
			err := c.ResolveSecrets(SecretReader{LookupEnv: func(k string) (string, bool) {
				return tt.env, k == "MRTR_KEY" && tt.env != ""
			}})
			var got string
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr || !bytes.Equal(c.MRTR.StateKeyBytes, tt.want) {
				t.Errorf("error %q key %x, want %q %x", got, c.MRTR.StateKeyBytes, tt.wantErr, tt.want)
			}
		})
	}
}
