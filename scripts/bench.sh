#!/usr/bin/env bash
# Runs the benchmark suite (cmd/mcpgate-bench suite): in one go and
# interleaved, the raw HTTP floor, the stdio floor and the demo upstream
# served directly, and mcpgate in front of them (and of server-everything
# when scripts/interop-setup.sh has installed it); prints one table with
# each figure's ratio to the floor and to the direct call, and the targets
# of issue 7; and, in the same passes, other gateways in front of the same
# upstreams (bench/peers: a minimal mcp-go gateway and supergateway).
# docs/performance.md explains the table and keeps the latest.
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

# The peers measured side by side (bench/peers, docs/performance.md "Peers
# side by side"): the minimal mcp-go gateway, a module of its own built
# here, and supergateway from npm, installed with npm ci when node is
# present (again only when package-lock.json is newer than the install).
# A peer that cannot be built or installed is not fatal: its rows say why.
peer_mcpgo="" mcpgo_missing=""
if (cd bench/peers/mcpgo-gateway && GOWORK=off GOFLAGS=-mod=readonly go build -o "$ROOT/bin/mcpgo-gateway" .); then
	peer_mcpgo=$ROOT/bin/mcpgo-gateway
else
	mcpgo_missing="go build failed (its modules need the Go module proxy once)"
	echo "bench: warning: the mcp-go peer: $mcpgo_missing" >&2
fi
peer_sg="" sg_missing=""
sg_installed=bench/peers/node_modules/.package-lock.json
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	sg_missing="node or npm not found"
elif [[ -f $sg_installed && ! $sg_installed -ot bench/peers/package-lock.json ]] ||
	npm ci --prefix bench/peers --no-audit --no-fund >&2; then
	# loopback.cjs: supergateway has no listen-address option.
	peer_sg="node -r $ROOT/bench/peers/loopback.cjs $ROOT/bench/peers/node_modules/supergateway/dist/index.js"
else
	sg_missing="npm ci --prefix bench/peers failed"
fi
[[ -z $sg_missing ]] || echo "bench: warning: supergateway: $sg_missing" >&2

exec bin/mcpgate-bench suite \
	-mcpgate bin/mcpgate \
	-d "${BENCH_DURATION:-5s}" \
	-passes "${BENCH_PASSES:-2}" \
	-c "${BENCH_CONCURRENCY:-16}" \
	-idle-streams "${BENCH_IDLE_STREAMS:-20000}" \
	-procs "${BENCH_PROCS:-1}" \
	-everything "$everything" \
	-peer-mcpgo "$peer_mcpgo" -peer-mcpgo-missing "$mcpgo_missing" \
	-peer-supergateway "$peer_sg" -peer-supergateway-missing "$sg_missing" \
	"$@"
