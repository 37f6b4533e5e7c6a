package oidctest

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// NewBrowser returns a user agent with cookies that does not follow
// redirects.
func NewBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	hiddenIn   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// Login plays a user in browser b: from start it follows redirects and
// submits every form it meets — mcpgate's consent page (approving), the
// provider's login page (as user, any password) and its consent page —
// until a redirect leads to a URL starting with done, which it returns.
func Login(t testing.TB, b *http.Client, start, user, done string) *url.URL {
	t.Helper()
	resp, err := b.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(loc.String(), done) {
				return loc
			}
			if resp, err = b.Get(loc.String()); err != nil {
				t.Fatal(err)
			}
		case resp.StatusCode == 200:
			m := formAction.FindStringSubmatch(string(body))
			if m == nil {
				t.Fatalf("page without form at %s: %s", resp.Request.URL, body)
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
			if strings.Contains(string(body), `name="action" value="approve"`) {
				f.Set("action", "approve")
			}
			if resp, err = b.PostForm(action.String(), f); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("login: %s got %d: %s", resp.Request.URL, resp.StatusCode, body)
		}
	}
	t.Fatal("login: too many steps")
	return nil
}
