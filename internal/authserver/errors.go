package authserver

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// Error is an OAuth error response (RFC 6749 §5.2, RFC 7591 §3.2.2): its
// Code and Description go to the client; Status is the HTTP status.
type Error struct {
	Code        string
	Description string
	Status      int
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func oauthErr(status int, code, desc string) *Error {
	return &Error{Code: code, Description: desc, Status: status}
}

func invalidRequest(desc string) *Error {
	return oauthErr(http.StatusBadRequest, "invalid_request", desc)
}
func invalidGrant(desc string) *Error { return oauthErr(http.StatusBadRequest, "invalid_grant", desc) }

var (
	errInvalidClient = oauthErr(http.StatusUnauthorized, "invalid_client", "client authentication failed")
	errServer        = oauthErr(http.StatusInternalServerError, "server_error", "the authorization server failed; try again")
)

// writeJSON writes v as a JSON response that must not be cached
// (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError writes e as JSON (RFC 6749 §5.2); invalid_client gets a Basic
// challenge (RFC 6749 §5.2: 401 with WWW-Authenticate).
func writeError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="mcpgate"`)
	}
	body := map[string]string{"error": e.Code}
	if e.Description != "" {
		body["error_description"] = e.Description
	}
	writeJSON(w, e.Status, body)
}

// redirectError sends the browser back to a validated redirect URI with an
// error (RFC 6749 §4.1.2.1), state and iss (RFC 9207).
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, desc string) {
	q := url.Values{"error": {code}, "iss": {s.o.Issuer}}
	if desc != "" {
		q.Set("error_description", desc)
	}
	if state != "" {
		q.Set("state", state)
	}
	http.Redirect(w, r, withQuery(redirectURI, q), http.StatusFound)
}

// withQuery adds q to uri's query, keeping the query it has.
func withQuery(uri string, q url.Values) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	old := u.Query()
	for k, vs := range q {
		old[k] = vs
	}
	u.RawQuery = old.Encode()
	return u.String()
}
