package jsonrpc

import "testing"

func TestLookup(t *testing.T) {
	tests := []struct {
		name, obj, key string
		want           string
		wantFound      bool
	}{
		{"present", `{"a":1,"b":{"c":2}}`, "b", `{"c":2}`, true},
		{"null value", `{"a":null}`, "a", `null`, true},
		{"absent", `{"a":1}`, "b", "", false},
		{"nested only", `{"a":{"b":1}}`, "b", "", false},
		{"escaped name", `{"\u0061":1}`, "a", "", false},
		{"not an object", `[1]`, "a", "", false},
		{"empty", ``, "a", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := Lookup([]byte(tt.obj), tt.key)
			if string(got) != tt.want || found != tt.wantFound {
				t.Errorf("Lookup(%s, %q) = %s, %v; want %s, %v", tt.obj, tt.key, got, found, tt.want, tt.wantFound)
			}
		})
	}
}
