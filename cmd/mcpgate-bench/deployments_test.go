package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

func TestBenchTokenRandomWithItsDigest(t *testing.T) {
	seen := map[string]bool{}
	for range 3 {
		token, digest, err := newBenchToken()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(token))
		if want := "sha256:" + hex.EncodeToString(sum[:]); digest != want {
			t.Errorf("digest %q, want %q (sha256 of the token)", digest, want)
		}
		if len(token) < 40 {
			t.Errorf("token of %d characters, want 256 random bits", len(token))
		}
		if seen[token] {
			t.Errorf("token repeated across calls")
		}
		seen[token] = true
	}
}

// loadGatewayConfig writes what gatewayYAML makes and loads it as mcpgate
// does (strict YAML, defaults, validation).
func loadGatewayConfig(t *testing.T, ups []gatewayUpstream, extra string) (*config.Config, string) {
	t.Helper()
	text := gatewayYAML(18080, ups, extra)
	path := filepath.Join(t.TempDir(), "gw.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatalf("mcpgate refuses the configuration:\n%s\n%v", text, err)
	}
	return c, text
}

func TestDeploymentConfigsAccepted(t *testing.T) {
	floor := []gatewayUpstream{{name: "bench", argv: []string{"/bin/true", "stdio-floor"}}}

	token, digest, err := newBenchToken()
	if err != nil {
		t.Fatal(err)
	}
	c, text := loadGatewayConfig(t, floor, authYAML(digest))
	if strings.Contains(text, token) {
		t.Errorf("the configuration holds the token itself")
	}
	if c.Auth.Mode != config.AuthStatic || len(c.Auth.Tokens) != 1 || string(c.Auth.Tokens[0].Hash) != digest {
		t.Errorf("auth: mode %q, tokens %d; want static with the one digest", c.Auth.Mode, len(c.Auth.Tokens))
	}
	if got := c.Limits.RequestsPerMinute; got != benchRequestsPerMinute {
		t.Errorf("limits.requests_per_minute = %d, want %d", got, benchRequestsPerMinute)
	}

	ups := make([]gatewayUpstream, len(nsUpstreams))
	for i, name := range nsUpstreams {
		ups[i] = gatewayUpstream{name: name, argv: floor[0].argv}
	}
	c, _ = loadGatewayConfig(t, ups, "")
	var names []string
	for _, u := range c.Upstreams {
		names = append(names, u.Name)
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Errorf("upstreams %v, want a, b, c", names)
	}
	// The namespaced name of the floor's tool, as the gateway lists it.
	if want := "b" + c.Namespace.Separator + defaultCall.Name; nsCall.Name != want {
		t.Errorf("the call names %q, want %q", nsCall.Name, want)
	}
	if !bytes.Contains(floorTools, []byte(`"name":"`+defaultCall.Name+`"`)) {
		t.Errorf("the stdio floor does not list %q", defaultCall.Name)
	}
}

// toolChecker counts tools/call requests that do not name want.
type toolChecker struct {
	want string
	next http.Handler

	mu    sync.Mutex // guards calls, wrong
	calls int
	wrong int
}

func (c *toolChecker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if bytes.Contains(body, methodToolsCall) {
		c.mu.Lock()
		c.calls++
		if !bytes.Contains(body, []byte(`"name":"`+c.want+`"`)) {
			c.wrong++
		}
		c.mu.Unlock()
	}
	c.next.ServeHTTP(w, r)
}

// TestDeploymentRows runs both rows against stand-ins for the gateways:
// the auth row sends the run's token on every request, the namespaced row
// calls the namespaced tool.
func TestDeploymentRows(t *testing.T) {
	token, _, err := newBenchToken()
	if err != nil {
		t.Fatal(err)
	}
	auth := newAuthChecker("Bearer "+token, floorHandler())
	authSrv := httptest.NewServer(auth)
	defer authSrv.Close()
	tools := &toolChecker{want: nsCall.Name, next: floorHandler()}
	nsSrv := httptest.NewServer(tools)
	defer nsSrv.Close()
	self := &exec.Cmd{Process: &os.Process{Pid: os.Getpid()}}
	d := &deployments{
		auth:  &child{url: authSrv.URL + "/mcp", cmd: self},
		ns:    &child{url: nsSrv.URL + "/mcp", cmd: self},
		token: token,
	}

	r := d.row(rowAuth, 2)
	if r.na != "" || r.run == nil || r.direct != "floor-stdio" {
		t.Fatalf("auth row: na %q, run set %v, direct %q", r.na, r.run != nil, r.direct)
	}
	res, err := r.run(t.Context(), 0, testRun)
	checkRun(t, res, err)
	auth.check(t, "POST /mcp", "DELETE /mcp")

	r = d.row(rowNamespaced, 2)
	if r.na != "" || r.run == nil {
		t.Fatalf("namespaced row: na %q, run set %v", r.na, r.run != nil)
	}
	res, err = r.run(t.Context(), 0, testRun)
	checkRun(t, res, err)
	tools.mu.Lock()
	defer tools.mu.Unlock()
	if tools.calls == 0 || tools.wrong != 0 {
		t.Errorf("%d tools/call, %d not naming %s", tools.calls, tools.wrong, nsCall.Name)
	}
}

// TestDeploymentRowsNextToGatewayFloor: without deployments (nil) both
// rows are n/a, and they sit right after "mcpgate → stdio floor".
func TestDeploymentRowsNextToGatewayFloor(t *testing.T) {
	me := &child{url: "http://127.0.0.1:1/mcp", cmd: &exec.Cmd{Process: &os.Process{Pid: os.Getpid()}}}
	rows := suiteRows(suiteOptions{concurrency: 2}, me, me, me, me, nil, []string{"floor"}, []string{"demo"}, "n/a")
	var keys []string
	for _, r := range rows {
		keys = append(keys, r.key)
	}
	at := strings.Index(strings.Join(keys, " "), "gw-floor "+rowAuth+" "+rowNamespaced+" ")
	if at < 0 {
		t.Errorf("rows %v: want %s and %s right after gw-floor", keys, rowAuth, rowNamespaced)
	}
	for _, key := range []string{rowAuth, rowNamespaced} {
		if r := rowByKey(rows, key); r.na == "" || r.run != nil {
			t.Errorf("row %s without deployments: na %q, run set %v", key, r.na, r.run != nil)
		}
	}
}
