package jsonrpc

import (
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantKind Kind
		wantCode int // 0: no error
	}{
		{"request", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, KindRequest, 0},
		{"string id", `{"jsonrpc":"2.0","id":"a","method":"ping","params":{}}`, KindRequest, 0},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, KindNotification, 0},
		{"response", `{"jsonrpc":"2.0","id":1,"result":{}}`, KindResponse, 0},
		{"error response", `{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"x"}}`, KindResponse, 0},
		{"malformed", `{"jsonrpc":"2.0",`, 0, CodeParseError},
		{"not json", `hello`, 0, CodeParseError},
		{"empty", ``, 0, CodeParseError},
		{"array is not a message", `[1]`, 0, CodeInvalidRequest},
		{"wrong version", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, 0, CodeInvalidRequest},
		{"null id", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, 0, CodeInvalidRequest},
		{"float id", `{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, 0, CodeInvalidRequest},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"ping"}`, 0, CodeInvalidRequest},
		{"method not string", `{"jsonrpc":"2.0","id":1,"method":3}`, 0, CodeInvalidRequest},
		{"scalar params", `{"jsonrpc":"2.0","id":1,"method":"x","params":3}`, 0, CodeInvalidRequest},
		{"result and error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":""}}`, 0, CodeInvalidRequest},
		{"nothing", `{"jsonrpc":"2.0"}`, 0, CodeInvalidRequest},
		{"too deep", `{"jsonrpc":"2.0","id":1,"method":"x","params":` + strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100) + `}`, 0, CodeParseError},
		{"deep inside string is fine", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"s":"` + strings.Repeat(`{[`, 100) + `"}}`, KindRequest, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode([]byte(tc.in))
			if tc.wantCode != 0 {
				if err == nil || err.Code != tc.wantCode {
					t.Fatalf("Decode(%s) error = %v, want code %d", tc.in, err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%s): %v", tc.in, err)
			}
			if m.Kind() != tc.wantKind {
				t.Errorf("kind = %v, want %v", m.Kind(), tc.wantKind)
			}
		})
	}
}

func TestRawFieldsPassThroughUnchanged(t *testing.T) {
	in := `{"jsonrpc":"2.0","id":"x-1","method":"tools/call","params":{"b":1,"a":[1,2,{"z":null}],"u":"\u00e9"}}`
	m, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(Encode(m)); got != in {
		t.Errorf("round trip:\n got %s\nwant %s", got, in)
	}
}

func TestDecodeBatch(t *testing.T) {
	batch := `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"}]`
	msgs, isBatch, err := DecodeBatch([]byte(batch), true)
	if err != nil || !isBatch || len(msgs) != 2 {
		t.Fatalf("batch allowed: %v %v %d", err, isBatch, len(msgs))
	}
	if _, _, err := DecodeBatch([]byte(batch), false); err == nil || err.Code != CodeInvalidRequest {
		t.Errorf("batch refused: got %v", err)
	}
	if _, _, err := DecodeBatch([]byte(`[]`), true); err == nil {
		t.Error("empty batch accepted")
	}
	if _, _, err := DecodeBatch([]byte(`[{"jsonrpc":"2.0"`), true); err == nil || err.Code != CodeParseError {
		t.Errorf("malformed batch: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":"a","result":{}}`,
		`[{"jsonrpc":"2.0","method":"x"}]`,
		`{"jsonrpc":"2.0","id":1e400,"method":"x"}`,
		`{`, `"`, `[[[[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err == nil {
			if verr := m.Validate(); verr != nil {
				t.Fatalf("Decode accepted an invalid message: %v", verr)
			}
			m2, err2 := Decode(Encode(m))
			if err2 != nil {
				t.Fatalf("re-decoding an encoded message: %v", err2)
			}
			if m2.Kind() != m.Kind() {
				t.Fatalf("kind changed on round trip")
			}
		}
		_, _, _ = DecodeBatch(data, true)
	})
}
