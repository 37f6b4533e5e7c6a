package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// exchangeCode redeems an authorization code at the gateway's token
// endpoint as a public client and returns the access token.
func exchangeCode(t *testing.T, base, clientID, code, verifier, redirect, resource string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID},
		"code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirect}, "resource": {resource}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	if resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token: got %d", resp.StatusCode)
	}
	return tok.AccessToken
}

// bearerRoundTripper sends every request with the access token.
type bearerRoundTripper string

func (b bearerRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}
