package authserver

import (
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// cimdServer serves client metadata documents over TLS on loopback and
// counts the fetches of /good.
func cimdServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var fetches atomic.Int32
	mux := http.NewServeMux()
	var srv *httptest.Server
	doc := func(path string, edit func(m map[string]any)) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			if path == "/good" {
				fetches.Add(1)
			}
			m := map[string]any{"client_id": srv.URL + path, "client_name": "CIMD app", "redirect_uris": []string{testRedirect},
				"token_endpoint_auth_method": "none"}
			if edit != nil {
				edit(m)
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "max-age=3600")
			json.NewEncoder(w).Encode(m)
		})
	}
	doc("/good", nil)
	doc("/mismatch", func(m map[string]any) { m["client_id"] = "https://other.example/client" })
	doc("/big", func(m map[string]any) { m["padding"] = strings.Repeat("x", DefaultCIMDMaxBytes) })
	doc("/secret", func(m map[string]any) { m["token_endpoint_auth_method"] = "client_secret_basic" })
	doc("/noname", func(m map[string]any) { delete(m, "client_name") })
	doc("/badredirect", func(m map[string]any) { m["redirect_uris"] = []string{"http://evil.example/cb"} })
	doc("/otherredirect", func(m map[string]any) { m["redirect_uris"] = []string{"https://app.example/cb"} })
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/good", http.StatusFound) })
	mux.HandleFunc("GET /notjson", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>") })
	srv = httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv, &fetches
}

func rootsOf(srv *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(srv.Certificate())
	return p
}

// TestCIMD: a client known only by its metadata document URL authorizes
// and gets tokens; bad documents are refused without a redirect.
func TestCIMD(t *testing.T) {
	t.Parallel()
	docs, fetches := cimdServer(t)
	h := newHarnessWith(t, func(o *Options) {
		o.CIMD = CIMDOptions{InsecureAllowPrivateNetworks: true, RootCAs: rootsOf(docs)}
	})
	id := docs.URL + "/good"
	for i := range 2 {
		verifier := oauth2.GenerateVerifier()
		code := h.code(id, verifier, "alice")
		status, tok := h.redeem(id, code, verifier)
		if p, ok := h.verify(tok["access_token"]); status != 200 || !ok || p.ClientID != id {
			t.Fatalf("round %d: token %d %v, principal %+v", i, status, tok, p)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("document fetched %d times, want 1 (cached by max-age)", n)
	}
	for _, path := range []string{"/mismatch", "/big", "/secret", "/noname", "/badredirect", "/otherredirect", "/redirect", "/notjson", "/missing"} {
		t.Run(path, func(t *testing.T) {
			resp, err := newBrowser(t).Get(h.authorizeURL(docs.URL+path, oauth2.GenerateVerifier(), nil))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
				t.Errorf("got %d Location %q, want an error page", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

// TestCIMDGuards: with the default guards a document on a loopback address
// is never fetched, and http URLs are not client IDs.
func TestCIMDGuards(t *testing.T) {
	t.Parallel()
	docs, fetches := cimdServer(t)
	h := newHarnessWith(t, func(o *Options) {
		o.CIMD = CIMDOptions{RootCAs: rootsOf(docs)}
		// A pre-registered client with a URL ID is used as configured.
		o.Clients = append(o.Clients, StaticClient{ID: docs.URL + "/static", RedirectURIs: []string{testRedirect}})
	})
	resp, err := newBrowser(t).Get(h.authorizeURL(docs.URL+"/static", oauth2.GenerateVerifier(), nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("pre-registered URL client: got %d, want the consent page", resp.StatusCode)
	}
	for _, id := range []string{docs.URL + "/good", strings.Replace(docs.URL, "https", "http", 1) + "/good"} {
		resp, err := newBrowser(t).Get(h.authorizeURL(id, oauth2.GenerateVerifier(), nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: got %d, want 400", id, resp.StatusCode)
		}
	}
	if n := fetches.Load(); n != 0 {
		t.Errorf("a loopback document was fetched %d times", n)
	}
	resp, _ = http.Get(h.srv.URL + "/.well-known/oauth-authorization-server")
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if m["client_id_metadata_document_supported"] != true {
		t.Error("client_id_metadata_document_supported is not true")
	}
}

func TestPublicAddr(t *testing.T) {
	tests := map[string]bool{
		"8.8.8.8": true, "2606:4700:4700::1111": true, "93.184.216.34": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fc00::1": false, "fd00:ec2::254": false, "100.64.0.1": false,
		"0.0.0.0": false, "::": false, "224.0.0.1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false,
		"64:ff9b::a00:1": false, "255.255.255.255": false,
	}
	for addr, want := range tests {
		if got := publicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("publicAddr(%s): got %v, want %v", addr, got, want)
		}
	}
}

func TestCacheTTL(t *testing.T) {
	tests := []struct {
		cc   string
		want time.Duration
	}{
		{"", DefaultCIMDCacheTTL},
		{"max-age=3600", time.Hour},
		{"public, max-age=10", time.Minute},
		{"max-age=999999999", 24 * time.Hour},
		{"no-store", time.Minute},
		{"max-age=x", DefaultCIMDCacheTTL},
	}
	for _, tt := range tests {
		if got := cacheTTL(tt.cc, DefaultCIMDCacheTTL); got != tt.want {
			t.Errorf("cacheTTL(%q): got %v, want %v", tt.cc, got, tt.want)
		}
	}
}

func TestIsCIMDClientID(t *testing.T) {
	for id, want := range map[string]bool{
		"https://app.example/client.json": true, "https://app.example/": false, "https://app.example": false,
		"http://app.example/client": false, "https://u@app.example/c": false, "https://app.example/c#f": false,
		"static-client": false, "https://app.example/a/../b": false,
	} {
		if got := isCIMDClientID(id); got != want {
			t.Errorf("isCIMDClientID(%q): got %v, want %v", id, got, want)
		}
	}
}
