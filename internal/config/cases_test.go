package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// validateCase is one row of a Validate table: change alters valid(), and
// want are the problems Validate must then report, each Problem's Error()
// in order; nil means valid.
type validateCase struct {
	name   string
	change func(c *Config)
	want   []string
}

// testSecrets are the secret values the tables write into configurations;
// no problem may repeat one.
var testSecrets = []string{"plain-text-token", "hunter2", "1a481d19"}

// runValidateCases runs a Validate table; opts tune the comparison of
// problems (say, as sets where they come from a map).
func runValidateCases(t *testing.T, tests []validateCase, opts ...cmp.Option) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(c)
			got := problems(t, c)
			if diff := cmp.Diff(tt.want, got, opts...); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
			for _, p := range got {
				for _, s := range testSecrets {
					if strings.Contains(p, s) {
						t.Errorf("a problem repeats a secret: %s", p)
					}
				}
			}
		})
	}
}

// problems returns the Error() of each Problem Validate reports for c, in
// order; nil when c is valid. An error that is not Problems fails the test.
func problems(t *testing.T, c *Config) []string {
	t.Helper()
	err := c.Validate()
	if err == nil {
		return nil
	}
	return problemTexts(t, "Validate", err)
}

// problemTexts returns the Error() of each Problem in err, the error of
// what ("Parse", "Resolve"); an error that is not Problems, nil included,
// fails the test.
func problemTexts(t *testing.T, what string, err error) []string {
	t.Helper()
	ps := AsProblems(err)
	if ps == nil {
		t.Fatalf("%s error = %v, want Problems", what, err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.Error())
	}
	return out
}
