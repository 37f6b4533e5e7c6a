package main

import (
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSuiteWithoutEverything: scripts/bench.sh passes -everything "" when
// server-everything is not installed; the suite then starts no gateway for
// it and reports its rows n/a instead of measuring them.
func TestSuiteWithoutEverything(t *testing.T) {
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	everything := fs.String("everything", "x", "")
	if err := fs.Parse([]string{"-everything", ""}); err != nil {
		t.Fatal(err)
	}
	o := suiteOptions{concurrency: 2, everything: strings.Fields(*everything)}
	if len(o.everything) > 0 {
		t.Fatalf("-everything \"\" gave the command %q", o.everything)
	}
	me := &child{url: "http://127.0.0.1:1/mcp", cmd: &exec.Cmd{Process: &os.Process{Pid: os.Getpid()}}}
	na := "n/a (server-everything not installed)"
	rows := suiteRows(o, me, me, me, me, nil, []string{"floor"}, []string{"demo"}, na)
	for _, key := range []string{"everything-direct", "gw-everything"} {
		if r := rowByKey(rows, key); r.na != na || r.run != nil {
			t.Errorf("row %s: na %q, run set %v; want n/a and nothing to run", key, r.na, r.run != nil)
		}
	}
}

func TestParseOutSegs(t *testing.T) {
	const snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\n" +
		"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs\n" +
		"Tcp: 1 200 120000 -1 10 5 0 0 3 1000 1234 0\n" +
		"Udp: InDatagrams\nUdp: 7\n"
	tests := []struct {
		name, text string
		want       int64
	}{
		{"names then values", snmp, 1234},
		{"no Tcp lines", "Ip: Forwarding\nIp: 1\n", -1},
		{"names without values", "Tcp: InSegs OutSegs\n", -1},
		{"no OutSegs column", "Tcp: InSegs\nTcp: 5\n", -1},
		{"values cut short", "Tcp: InSegs OutSegs\nTcp: 5\n", -1},
		{"not a number", "Tcp: InSegs OutSegs\nTcp: 5 x\n", -1},
	}
	for _, tt := range tests {
		if got := parseOutSegs(tt.text); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestLegacyGoals: the legacy target is judged in both layouts, each
// against Streamable HTTP in the same layout, with the segments per call
// of both shown.
func TestLegacyGoals(t *testing.T) {
	res := func(calls int, segs int64, cpu time.Duration) []*result {
		return []*result{{Calls: calls, Elapsed: time.Second, Segments: segs, CPU: cpu}}
	}
	rows := map[string]*row{
		"gw-floor":        {results: res(1000, 2000, 50*time.Millisecond)},
		"gw-floor-sse":    {results: res(800, 4000, 48*time.Millisecond)},
		"gw-floor-1s":     {results: res(1000, 2000, 0)}, // CPU not read: not shown
		"gw-floor-sse-1s": {results: res(950, 2850, 0)},
	}
	get := func(key string) *row {
		if r, ok := rows[key]; ok {
			return r
		}
		return &row{na: "n/a (not in this test)"}
	}
	want := map[string]string{
		"legacy SSE within 10% of Streamable HTTP (a session per worker)":        "**not met**|0.800 ×; TCP segments per call 5.00 vs 2.00; gateway CPU per call 60µs vs 50µs",
		"legacy SSE within 10% of Streamable HTTP (one session for all workers)": "met|0.950 ×; TCP segments per call 3.00 vs 2.00",
	}
	for _, g := range goals(get, nil, &row{results: res(35000, 70000, 0)}, "") {
		w, ok := want[g.name]
		if !ok {
			continue
		}
		delete(want, g.name)
		if got := g.verdict + "|" + g.measured; got != w {
			t.Errorf("%s: %q, want %q", g.name, got, w)
		}
	}
	for name := range want {
		t.Errorf("no goal %q", name)
	}
}
