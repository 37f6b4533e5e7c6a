package authserver

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/authserver/oidctest"
	"github.com/mcpgate/mcpgate/internal/principal"
)

// harness is a gateway authorization server in front of a real upstream
// provider, on loopback.
type harness struct {
	t     *testing.T
	srv   *httptest.Server
	as    *Server
	store *MemoryStore
}

const testRedirect = "http://127.0.0.1:9/cb"

func newHarness(t *testing.T, extra ...StaticClient) *harness {
	t.Helper()
	return newHarnessWith(t, func(o *Options) { o.Clients = append(o.Clients, extra...) })
}

// newHarnessWith is newHarness with options changed by mutate.
func newHarnessWith(t *testing.T, mutate func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, store: NewMemoryStore()}
	// The listener comes first: the issuer and the provider's redirect URI
	// need its address; the server starts once the handler exists.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	idp := oidctest.Start(t, base+"/callback")
	opts := Options{
		Issuer:   base,
		Upstream: Upstream{Issuer: idp, ClientID: oidctest.ClientID, ClientSecret: secretString(oidctest.ClientSecret), Scopes: []string{"openid", "email", "groups"}},
		Clients:  []StaticClient{{ID: "static-client", RedirectURIs: []string{testRedirect}}},
		Roles:    map[string]string{"admins": principal.RoleAdmin, "readers": principal.RoleReadOnly},
		Store:    h.store,
	}
	mutate(&opts)
	as, err := New(context.Background(), opts)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	h.as = as
	h.srv = httptest.NewUnstartedServer(as.Handler())
	h.srv.Listener.Close()
	h.srv.Listener = ln
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	return h
}

// browser is a user agent with cookies that does not follow redirects.
func newBrowser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	hiddenIn   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// authorizeURL is a valid authorization request of client for verifier.
func (h *harness) authorizeURL(client, verifier string, extra url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {testRedirect},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
		"state": {"client-state"}, "resource": {h.srv.URL + "/mcp"}}
	for k, vs := range extra {
		q[k] = vs
	}
	for k, vs := range q {
		if len(vs) == 1 && vs[0] == "-" {
			delete(q, k)
		}
	}
	return h.srv.URL + "/authorize?" + q.Encode()
}

// consent loads the consent page of an authorization request and returns
// the form's hidden fields.
func (h *harness) consent(b *http.Client, authorizeURL string) url.Values {
	h.t.Helper()
	resp, err := b.Get(authorizeURL)
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		h.t.Fatalf("authorize: got %d %s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		h.t.Errorf("consent page can be framed: CSP %q", csp)
	}
	f := url.Values{}
	for _, m := range hiddenIn.FindAllStringSubmatch(string(body), -1) {
		f.Set(m[1], html.UnescapeString(m[2]))
	}
	return f
}

// login approves the consent form and walks the upstream provider's login
// and consent pages as user, returning the final redirect to the client.
func (h *harness) login(b *http.Client, form url.Values, user string) *url.URL {
	h.t.Helper()
	form.Set("action", "approve")
	resp, err := b.PostForm(h.srv.URL+"/authorize", form)
	if err != nil {
		h.t.Fatal(err)
	}
	for range 20 {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
			if err != nil {
				h.t.Fatal(err)
			}
			if strings.HasPrefix(loc.String(), testRedirect) {
				return loc
			}
			if resp, err = b.Get(loc.String()); err != nil {
				h.t.Fatal(err)
			}
		case resp.StatusCode == 200:
			m := formAction.FindStringSubmatch(string(body))
			if m == nil {
				h.t.Fatalf("page without form at %s: %s", resp.Request.URL, body)
			}
			action, _ := resp.Request.URL.Parse(html.UnescapeString(m[1]))
			f := url.Values{}
			for _, m := range hiddenIn.FindAllStringSubmatch(string(body), -1) {
				f.Set(m[1], html.UnescapeString(m[2]))
			}
			if strings.Contains(string(body), `name="login"`) {
				f.Set("login", user)
				f.Set("password", "any")
			}
			if resp, err = b.PostForm(action.String(), f); err != nil {
				h.t.Fatal(err)
			}
		default:
			h.t.Fatalf("login: %s got %d: %s", resp.Request.URL, resp.StatusCode, body)
		}
	}
	h.t.Fatal("login: too many steps")
	return nil
}

// code runs a whole authorization as user and returns the code.
func (h *harness) code(client, verifier, user string) string {
	h.t.Helper()
	b := newBrowser(h.t)
	loc := h.login(b, h.consent(b, h.authorizeURL(client, verifier, nil)), user)
	q := loc.Query()
	if q.Get("code") == "" || q.Get("state") != "client-state" || q.Get("iss") != h.srv.URL {
		h.t.Fatalf("redirect to client: %s", loc)
	}
	return q.Get("code")
}

// post sends a form to the token or revocation endpoint and decodes the
// JSON answer.
func (h *harness) post(path string, form url.Values) (int, map[string]any) {
	h.t.Helper()
	resp, err := http.PostForm(h.srv.URL+path, form)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func (h *harness) redeem(client, code, verifier string) (int, map[string]any) {
	return h.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {client},
		"code": {code}, "code_verifier": {verifier}, "redirect_uri": {testRedirect}, "resource": {h.srv.URL + "/mcp"}})
}

func (h *harness) refresh(client, rt string) (int, map[string]any) {
	return h.post("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {client}, "refresh_token": {rt}})
}

// verify reports whether the access token is valid for the harness's
// resource, and its principal.
func (h *harness) verify(at any) (principal.Principal, bool) {
	s, _ := at.(string)
	p, err := h.as.VerifyAccessToken(context.Background(), s, h.as.Resource())
	return p, err == nil
}
