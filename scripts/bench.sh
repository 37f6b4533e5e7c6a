#!/usr/bin/env bash
# Runs the benchmark suite (cmd/mcpgate-bench suite): in one go and
# interleaved, the raw HTTP floor, the stdio floor and the demo upstream
# served directly, and mcpgate in front of them (and of server-everything
# when scripts/interop-setup.sh has installed it); prints one table with
# each figure's ratio to the floor and to the direct call, and the targets
# of issue 7. docs/performance.md explains the table and keeps the latest.
#
#   scripts/bench.sh              the suite: a few minutes
#   BENCH_DURATION=2s scripts/bench.sh      shorter runs (default 5s each)
#   BENCH_PASSES=3 BENCH_IDLE_STREAMS=0 …   more passes; skip the idle runs
#   BENCH_PROCS=2 …               the load client's GOMAXPROCS (default 1:
#                                 it never takes more than one core)
#   scripts/bench.sh go [args]    the Go micro-benchmarks instead
#                                 (go test -bench -benchmem; args go to go test)
#
# The load client and the servers share the machine: close other work
# first, and compare ratios rather than raw figures across machines.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

if [[ ${1:-} == go ]]; then
	shift
	exec go test -run='^$' -bench=. -benchmem "$@" ./...
fi

go build -o bin/mcpgate ./cmd/mcpgate
go build -o bin/mcpgate-bench ./cmd/mcpgate-bench

everything=""
ev_js=$ROOT/interop/node_modules/@modelcontextprotocol/server-everything/dist/index.js
if [[ -f $ev_js ]] && command -v node >/dev/null 2>&1; then
	everything="node $ev_js stdio"
fi

exec bin/mcpgate-bench suite \
	-mcpgate bin/mcpgate \
	-d "${BENCH_DURATION:-5s}" \
	-passes "${BENCH_PASSES:-2}" \
	-c "${BENCH_CONCURRENCY:-16}" \
	-idle-streams "${BENCH_IDLE_STREAMS:-20000}" \
	-procs "${BENCH_PROCS:-1}" \
	-everything "$everything" \
	"$@"
