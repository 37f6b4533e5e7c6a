package admin

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// TestStatsMRTR: GET /stats carries the relay's multi-round-trip counts
// under "mrtr" when Options.MRTR is set, and leaves the member out when not.
func TestStatsMRTR(t *testing.T) {
	tests := []struct {
		name     string
		mrtr     func() any
		wantMRTR string // JSON of the "mrtr" member; "" absent
	}{
		{"counts", func() any {
			return map[string]int{"parked": 3, "parkedTotal": 9, "limitRefused": 1, "parkTimeouts": 2}
		}, `{"limitRefused":1,"parkTimeouts":2,"parked":3,"parkedTotal":9}`},
		{"not configured", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(&fakeSessions{}, Options{TokenDigest: secret.DigestOf(token), MRTR: tt.mrtr})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/stats", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var got map[string]json.RawMessage
			if resp.StatusCode != 200 || json.Unmarshal(body, &got) != nil {
				t.Fatalf("status %d body %s", resp.StatusCode, body)
			}
			if got["sessions"] == nil {
				t.Errorf("body %s lost the session stats", body)
			}
			if string(got["mrtr"]) != tt.wantMRTR {
				t.Errorf("mrtr %s, want %q", got["mrtr"], tt.wantMRTR)
			}
		})
	}
}
