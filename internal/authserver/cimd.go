package authserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults of CIMDOptions.
const (
	DefaultCIMDMaxBytes = 16 << 10
	DefaultCIMDTimeout  = 5 * time.Second
	DefaultCIMDCacheTTL = 5 * time.Minute
	maxCIMDCacheTTL     = 24 * time.Hour
)

// CIMDOptions configures Client ID Metadata Documents ([A §Client ID
// Metadata Documents]): a client_id that is an https URL with a path names
// a JSON document the server fetches. The fetch is guarded against SSRF
// ([A §Client ID Metadata Document Security]): https only, every address
// it connects to checked at connect time (so DNS rebinding cannot slip
// through), no redirects, bounded size and time.
type CIMDOptions struct {
	// Disabled turns CIMD off: URL client IDs are unknown clients.
	Disabled bool
	// InsecureAllowPrivateNetworks lets the fetch reach loopback, private,
	// link-local and other non-public addresses. For tests and closed
	// networks only. Zero (false) refuses them.
	InsecureAllowPrivateNetworks bool
	// RootCAs verifies the documents' servers. Nil means the system roots.
	RootCAs *x509.CertPool
	// MaxBytes bounds a document. Zero means DefaultCIMDMaxBytes (16 KiB).
	MaxBytes int64
	// Timeout bounds a fetch. Zero means DefaultCIMDTimeout (5s).
	Timeout time.Duration
	// CacheTTL is how long a fetched document is used when its response
	// has no Cache-Control max-age. Zero means DefaultCIMDCacheTTL (5m).
	// A max-age is honoured between one minute and one day.
	CacheTTL time.Duration
}

// cimdDocument is the part of a client metadata document mcpgate reads.
type cimdDocument struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
}

// isCIMDClientID reports whether id is a URL client ID: https with a
// path other than "/" (CIMD §3).
func isCIMDClientID(id string) bool {
	u, err := url.Parse(id)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.Path != "" && u.Path != "/" &&
		u.Fragment == "" && u.User == nil && !strings.Contains(id, "/./") && !strings.Contains(id, "/../")
}

// newCIMDClient returns the guarded HTTP client of document fetches.
func newCIMDClient(o CIMDOptions) *http.Client {
	dialer := &net.Dialer{Timeout: o.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		if o.InsecureAllowPrivateNetworks {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("checking address %q: %w", address, err)
		}
		if !publicAddr(ap.Addr()) {
			return fmt.Errorf("refusing non-public address %s", ap.Addr())
		}
		return nil
	}}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		MaxIdleConns:          8,
		IdleConnTimeout:       30 * time.Second,
		Proxy:                 nil, // a proxy would connect to addresses the guard never sees
	}
	return &http.Client{Transport: tr, Timeout: o.Timeout,
		// Redirects are refused: each hop would need the same checks.
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("redirects are not followed") }}
}

// publicAddr reports whether a is a public unicast address: not loopback,
// private (RFC 1918, RFC 4193), link-local (including cloud metadata
// endpoints such as 169.254.169.254), CGNAT, unspecified or multicast.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),  // CGNAT, RFC 6598
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64 can reach IPv4 private space
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved
	netip.MustParsePrefix("fec0::/10"),      // site-local
	netip.MustParsePrefix("2002::/16"),      // 6to4 can embed private IPv4
	netip.MustParsePrefix("::ffff:0:0/96"),  // mapped (Unmap handles most)
	netip.MustParsePrefix("192.88.99.0/24"), // 6to4 relay
	netip.MustParsePrefix("169.254.0.0/16"), // link-local (explicit)
	netip.MustParsePrefix("fd00:ec2::/32"),  // AWS IMDS IPv6
	netip.MustParsePrefix("100.100.0.0/16"), // Alibaba metadata range
}

// cimdClient returns the client of a URL client ID, from the store while
// its document is fresh, else fetched, checked and stored.
func (s *Server) cimdClient(ctx context.Context, id string) (Client, error) {
	now := s.o.Now()
	c, err := s.store.Client(ctx, id)
	if err == nil && (!c.CIMD || now.Before(c.Expires)) {
		// A pre-registered client with a URL ID is never refetched.
		return c, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Client{}, err
	}
	// Fetches are bounded per document host, so the gateway cannot be
	// made to hammer one site ([A §Client ID Metadata Document Security]).
	if err := s.allow(ctx, s.cimdLimit, "cimd", cimdHost(id)); err != nil {
		return Client{}, err
	}
	doc, ttl, err := s.fetchCIMD(ctx, id)
	if err != nil {
		s.log.InfoContext(ctx, "client metadata document refused", "client_id", id, "err", err)
		return Client{}, ErrNotFound
	}
	c = Client{ID: id, Name: doc.ClientName, RedirectURIs: doc.RedirectURIs, AuthMethod: "none",
		ApplicationType: "web", CIMD: true, CreatedAt: now, Expires: now.Add(ttl)}
	if err := s.store.PutClient(ctx, c); err != nil {
		return Client{}, err
	}
	return c, nil
}

// fetchCIMD fetches and validates a client metadata document.
func (s *Server) fetchCIMD(ctx context.Context, id string) (cimdDocument, time.Duration, error) {
	o := s.o.CIMD
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return cimdDocument{}, 0, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cimdHTTP.Do(req)
	if err != nil {
		return cimdDocument{}, 0, fmt.Errorf("fetching: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return cimdDocument{}, 0, fmt.Errorf("fetching: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, o.MaxBytes+1))
	if err != nil {
		return cimdDocument{}, 0, fmt.Errorf("reading: %w", err)
	}
	if int64(len(body)) > o.MaxBytes {
		return cimdDocument{}, 0, fmt.Errorf("the document is larger than %d bytes", o.MaxBytes)
	}
	var doc cimdDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return cimdDocument{}, 0, fmt.Errorf("decoding: %w", err)
	}
	// [A §Client ID Metadata Documents]: client_id equals the URL exactly;
	// client_name and redirect_uris are required.
	switch {
	case doc.ClientID != id:
		return cimdDocument{}, 0, errors.New("the document's client_id differs from its URL")
	case doc.ClientName == "" || len(doc.ClientName) > 200:
		return cimdDocument{}, 0, errors.New("client_name is missing or too long")
	case len(doc.RedirectURIs) == 0 || len(doc.RedirectURIs) > maxRedirectURIs:
		return cimdDocument{}, 0, errors.New("redirect_uris is missing or too long")
	case doc.TokenEndpointAuthMethod != "" && doc.TokenEndpointAuthMethod != "none":
		// A document is public, so it cannot carry a shared secret; key-based
		// client authentication (private_key_jwt) is not supported yet.
		return cimdDocument{}, 0, errors.New("token_endpoint_auth_method must be none")
	}
	for _, ru := range doc.RedirectURIs {
		if err := checkRedirectURI(ru); err != nil {
			return cimdDocument{}, 0, err
		}
	}
	return doc, cacheTTL(resp.Header.Get("Cache-Control"), o.CacheTTL), nil
}

// cacheTTL reads max-age from Cache-Control (RFC 9111 §5.2.2.1), bounded;
// no-store and no-cache mean the minimum.
func cacheTTL(cc string, def time.Duration) time.Duration {
	ttl := def
	for _, d := range strings.Split(cc, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "no-store" || d == "no-cache" {
			return time.Minute
		}
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				ttl = time.Duration(n) * time.Second
			}
		}
	}
	return min(max(ttl, time.Minute), maxCIMDCacheTTL)
}
