package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"
)

// artifactsDir is where tests keep artifacts (screenshots): $MCPGATE_ARTIFACTS,
// else /tmp/mcpgate-artifacts. It outlives the test on purpose.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("MCPGATE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "mcpgate-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("creating artifacts directory: %v", err)
	}
	return dir
}

// startChromium starts headless Chromium (Debian's chromium, flags as in
// OAUTH-NOTES) with a fresh profile and returns a browser context. The
// test is skipped when chromium is missing, unless CI is set. The
// browser process ends when the test does.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (apt-get install chromium); CI requires it")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // kills the browser and waits for it
	})
	// A deadline for the whole browser part; Run starts the browser.
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// TestOAuthBrowser drives the login and consent path in a real browser:
// a client (registered dynamically, redirecting to a loopback app) starts
// an authorization with PKCE; Chromium shows mcpgate's consent page
// (screenshot kept as an artifact), a cross-site form post of that
// consent is refused, the user approves, signs in at the upstream
// provider (oidc-provider's login and consent pages) and lands at the
// app with a code; the test exchanges it and calls a tool through /mcp
// with the access token.
func TestOAuthBrowser(t *testing.T) {
	ctx := startChromium(t)
	gw := startOAuthGateway(t)

	codes := make(chan url.Values, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cb" {
			select {
			case codes <- r.URL.Query():
			default:
			}
			fmt.Fprint(w, "<!DOCTYPE html><title>app</title><h1>signed in</h1>")
			return
		}
		http.NotFound(w, r)
	}))
	defer app.Close()
	redirect := app.URL + "/cb"

	// The client registers (RFC 7591) and builds its PKCE request.
	resp, err := http.Post(gw.base+"/register", "application/json", strings.NewReader(
		`{"client_name":"Browser test app","redirect_uris":["`+redirect+`"],"token_endpoint_auth_method":"none"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if resp.StatusCode != 201 || reg.ClientID == "" {
		t.Fatalf("register: %d %+v", resp.StatusCode, reg)
	}
	verifier := oauth2.GenerateVerifier()
	authorize := gw.base + "/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {redirect},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
		"state": {"app-state"}, "resource": {gw.url}, "scope": {"mcp"},
	}.Encode()

	// The consent page, with a screenshot kept for people to look at.
	if err := chromedp.Do(ctx, chromedp.Navigate(authorize), chromedp.WaitVisible(`button[value="approve"]`)); err != nil {
		t.Fatalf("consent page: %v", err)
	}
	page := run(t, ctx, chromedp.Text(`body`))
	id := run(t, ctx, chromedp.Value(`input[name="id"]`))
	csrf := run(t, ctx, chromedp.Value(`input[name="csrf"]`))
	shot := run(t, ctx, chromedp.FullScreenshot(100))
	if !strings.Contains(page, "Browser test app") || !strings.Contains(page, strings.TrimPrefix(app.URL, "http://")) {
		t.Errorf("the consent page does not name the client and its redirect host:\n%s", page)
	}
	shotPath := filepath.Join(artifactsDir(t), "oauth-consent.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("consent page screenshot: %s", shotPath)

	// CSRF: another site posts the consent form, with this browser's
	// cookies and even the right hidden values: refused (Origin), and the
	// pending authorization survives for the real page.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!DOCTYPE html><form method="post" action="%s/authorize">
<input type="hidden" name="id" value="%s"><input type="hidden" name="csrf" value="%s">
<input type="hidden" name="action" value="approve"></form><script>document.forms[0].submit()</script>`, gw.base, id, csrf)
	}))
	defer evil.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(evil.URL), chromedp.WaitVisible(`h1`)); err != nil {
		t.Fatalf("cross-site post: %v", err)
	}
	refused := run(t, ctx, chromedp.Text(`body`))
	if !strings.Contains(refused, "posted from another site") {
		t.Errorf("cross-site consent post: got page %q, want the refusal", refused)
	}

	// The user approves on the real page, then signs in upstream.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(authorize),
		chromedp.WaitVisible(`button[value="approve"]`),
		chromedp.Click(`button[value="approve"]`),
		chromedp.WaitVisible(`input[name="login"]`),
		chromedp.SendKeys(`input[name="login"]`, "alice"),
		chromedp.SendKeys(`input[name="password"]`, "any"),
		chromedp.Click(`button[type="submit"]`),
	); err != nil {
		t.Fatalf("approve and login: %v", err)
	}
	// oidc-provider asks its own consent for a new session (a fresh
	// profile always has one), then sends the browser back through
	// /callback to the app.
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(`input[name="prompt"][value="consent"] ~ button`),
		chromedp.Click(`input[name="prompt"][value="consent"] ~ button`),
	); err != nil {
		t.Fatalf("provider consent: %v", err)
	}
	var q url.Values
	select {
	case q = <-codes:
	case <-ctx.Done():
		t.Fatal("the browser never reached the app's redirect URI")
	}
	if q.Get("code") == "" || q.Get("state") != "app-state" || q.Get("iss") != gw.base {
		t.Fatalf("redirect to the app: %v", q)
	}

	// The app exchanges the code and calls a tool as alice.
	tok := exchangeCode(t, gw.base, reg.ClientID, q.Get("code"), verifier, redirect, gw.url)
	cs := connectSDK(t, gw.url, "2025-11-25", nil, &http.Client{Transport: bearerRoundTripper(tok)})
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "from the browser"}})
	if err != nil || res.IsError || !strings.Contains(textOf(t, res), "from the browser") {
		t.Fatalf("tools/call through the gateway: %v %+v", err, res)
	}
}

// run runs one browser action that yields a value, failing the test on
// error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}
