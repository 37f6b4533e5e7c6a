package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const value = "tok-3f9a2c77e1"

func TestStringNeverShowsValue(t *testing.T) {
	s := New(value)
	type holder struct {
		Name  string
		Token String
		Ptr   *String
	}
	h := holder{Name: "alice", Token: s, Ptr: &s}
	var logs bytes.Buffer
	text := slog.New(slog.NewTextHandler(&logs, nil))
	jsonLog := slog.New(slog.NewJSONHandler(&logs, nil))
	text.Info("t", "token", s, "holder", h, "group", slog.Group("g", "tok", s))
	jsonLog.Info("j", "token", s, "holder", h, "ptr", &s)
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	txt, _ := s.MarshalText()
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%s": fmt.Sprintf("%s", s), "%q": fmt.Sprintf("%q", s),
		"%x": fmt.Sprintf("%x", s), "%d": fmt.Sprintf("%d", s), "%#v": fmt.Sprintf("%#v", s),
		"%+v struct": fmt.Sprintf("%+v", h), "%#v struct": fmt.Sprintf("%#v", h),
		"error": fmt.Errorf("using %v: %w", s, errors.New("x")).Error(),
		"json":  string(js), "text": string(txt), "logs": logs.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, value) {
			t.Errorf("%s shows the secret: %s", name, out)
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("%s does not say %s: %s", name, Redacted, out)
		}
	}
	if s.Reveal() != value {
		t.Errorf("Reveal: got %q, want %q", s.Reveal(), value)
	}
	if s.IsZero() || !(String{}).IsZero() {
		t.Error("IsZero is wrong")
	}
}
