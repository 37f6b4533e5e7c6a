package main

import (
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
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
