package authserver

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/authserver/oidctest"
)

// firstHop loads an authorization request in browser b and reports
// whether the gateway showed its consent page (200) or went straight to
// the upstream provider (302 there), with the redirect's target.
func (h *harness) firstHop(b *http.Client, authorizeURL string) (consentShown bool, next string) {
	h.t.Helper()
	resp, err := b.Get(authorizeURL)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == 200:
		return true, ""
	case resp.StatusCode == http.StatusFound && !strings.HasPrefix(resp.Header.Get("Location"), h.srv.URL):
		return false, resp.Header.Get("Location")
	}
	h.t.Fatalf("authorize: got %d %s", resp.StatusCode, resp.Header.Get("Location"))
	return false, ""
}

// TestRememberedConsent: after a user approves a client, the same browser
// skips the consent page for that client; another user signing in behind
// that remembered approval is refused; revoking the grant (refresh token
// at /revoke) forgets the approval; with ConsentTTL negative it is never
// remembered.
func TestRememberedConsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := newBrowser(t)
	v := oauth2.GenerateVerifier()
	loc := h.login(b, h.consent(b, h.authorizeURL("static-client", v, nil)), "alice")
	status, tok := h.redeem("static-client", loc.Query().Get("code"), v)
	if status != 200 {
		t.Fatalf("first token: %d %v", status, tok)
	}

	// Same browser, same client: no consent page; the upstream session
	// signs alice in again and the client gets a working code.
	v2 := oauth2.GenerateVerifier()
	shown, next := h.firstHop(b, h.authorizeURL("static-client", v2, nil))
	if shown {
		t.Fatal("the consent page was shown again to the user who approved")
	}
	loc = oidctest.Login(t, b, next, "alice", testRedirect)
	if status, tok := h.redeem("static-client", loc.Query().Get("code"), v2); status != 200 {
		t.Fatalf("token after remembered consent: %d %v", status, tok)
	}

	// A browser carrying alice's cookie but signing in as bob upstream:
	// refused at the callback, and the cookie is dropped.
	shared := newBrowser(t)
	base, _ := url.Parse(h.srv.URL)
	// Only the gateway's cookies: on loopback the jar shares cookies
	// across ports, the provider's session included.
	for _, c := range b.Jar.Cookies(base) {
		if strings.HasPrefix(c.Name, "mcpgate_") {
			shared.Jar.SetCookies(base, []*http.Cookie{c})
		}
	}
	shown, next = h.firstHop(shared, h.authorizeURL("static-client", oauth2.GenerateVerifier(), nil))
	if shown {
		t.Fatal("the copied approval did not skip the consent page (test premise)")
	}
	resp := loginUntilGateway(t, shared, next, "bob", h.srv.URL+"/callback")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("bob behind alice's approval: got %d %s, want 403", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range shared.Jar.Cookies(base) {
		if c.Name == userCookie {
			t.Error("the user cookie was kept after a refused remembered consent")
		}
	}

	// Revoking the refresh token forgets the approval.
	if status, _ := h.post("/revoke", url.Values{"client_id": {"static-client"}, "token": {tok["refresh_token"].(string)}}); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	if shown, _ := h.firstHop(b, h.authorizeURL("static-client", oauth2.GenerateVerifier(), nil)); !shown {
		t.Error("the consent page was skipped after the grant was revoked")
	}
}

// TestConsentNotRemembered: ConsentTTL < 0 asks every time.
func TestConsentNotRemembered(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(o *Options) { o.ConsentTTL = -1 })
	b := newBrowser(t)
	h.login(b, h.consent(b, h.authorizeURL("static-client", oauth2.GenerateVerifier(), nil)), "alice")
	if shown, _ := h.firstHop(b, h.authorizeURL("static-client", oauth2.GenerateVerifier(), nil)); !shown {
		t.Error("consent remembered although ConsentTTL is negative")
	}
}

// loginUntilGateway plays user at the upstream from start until the
// browser is sent to stop (a gateway URL), and returns the gateway's
// response to that request.
func loginUntilGateway(t *testing.T, b *http.Client, start, user, stop string) *http.Response {
	t.Helper()
	loc := oidctest.Login(t, b, start, user, stop) // stops at the redirect to stop
	resp, err := b.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestHostCookies: on an https issuer the server's cookies carry the
// __Host- prefix with Secure, HttpOnly, SameSite=Lax and Path=/.
func TestHostCookies(t *testing.T) {
	s, err := New(t.Context(), Options{Issuer: "https://gw.example", Upstream: Upstream{Issuer: "https://idp.example", ClientID: "x"},
		Clients: []StaticClient{{ID: "c", RedirectURIs: []string{"https://app.example/cb"}}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/authorize?"+url.Values{"response_type": {"code"}, "client_id": {"c"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}.Encode(), nil))
	cookies := rec.Result().Cookies()
	if rec.Code != 200 || len(cookies) != 1 {
		t.Fatalf("authorize: %d, cookies %v", rec.Code, cookies)
	}
	c := cookies[0]
	if c.Name != "__Host-"+browserCookie || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("cookie: %+v", c)
	}
}

// TestUpstreamAuthParams: extra upstream authorization parameters reach
// the provider's authorization URL; reserved ones cannot replace the
// server's own.
func TestUpstreamAuthParams(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(o *Options) {
		o.Upstream.AuthParams = map[string]string{"access_type": "offline", "state": "attacker", "redirect_uri": "https://evil.example/"}
	})
	b := newBrowser(t)
	form := h.consent(b, h.authorizeURL("static-client", oauth2.GenerateVerifier(), nil))
	form.Set("action", "approve")
	resp, err := b.PostForm(h.srv.URL+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("approve: %d %v", resp.StatusCode, err)
	}
	q := loc.Query()
	if q.Get("access_type") != "offline" || q.Get("state") == "attacker" || q.Get("redirect_uri") != h.srv.URL+"/callback" || len(q["state"]) != 1 {
		t.Errorf("upstream authorization URL: %s", loc)
	}
}
