#!/usr/bin/env bash
# Runs the official MCP conformance suites (npm @modelcontextprotocol/
# conformance, installed in interop/ by scripts/interop-setup.sh) against the
# gateway:
#
#   0.1.16           the default active suite
#   0.2.0-alpha.12   the scenarios that spec revision 2025-11-25 requires
#   0.2.0-alpha.12   the scenarios that spec revision 2026-07-28 requires
#                    (stateless clients; docs/protocol-eras.md)
#   0.2.0-alpha.12   the same 2026-07-28 scenarios in front of the demo
#                    forced to the session era (`demo-server --era legacy`
#                    over --stdio), whatever the default demo becomes: the
#                    proof of the 2026 client → session-era upstream
#                    translation (MRTR, docs/protocol-eras.md §4.3 A)
#   0.2.0-alpha.12   the same 2026-07-28 scenarios in front of the demo as a
#                    2026-07-28-only upstream (`demo-server --era modern`):
#                    the proof of the pass-through to modern upstreams, the
#                    tasks extension included (docs/protocol-eras.md §4.6)
#   0.2.0-alpha.12   the 2025-11-25 scenarios in front of the same modern
#                    demo: the proof of the session client → 2026-only
#                    upstream translation (docs/protocol-eras.md §4.3 B)
#
# For each suite it builds bin/mcpgate, starts `bin/mcpgate serve` (the
# built-in demo upstream) on a free loopback port, waits until GET /health
# answers 200, runs the suite against http://127.0.0.1:PORT/mcp, and stops
# that gateway (only that PID). It fails when either suite fails.
#
# Expected failures live in conformance/baseline-<suite version>.yml (for
# --requirements other than 2025-11-25:
# conformance/baseline-<suite version>-<requirements>.yml, and for a run
# against another upstream baseline-<suite version>-<requirements>-<variant>.yml),
# in the
# suites' --expected-failures format: a YAML mapping whose `server` key lists
# scenario names (0.2 also takes "scenario:check-id"). Each entry needs a
# comment giving the reason. A suite fails on an unexpected failure AND on a
# stale entry (one that now passes), so the baselines stay honest. A new
# suite version needs its own baseline file.
#
# Results and the gateway's log go to .cache/conformance/<suite version>/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

SUITE_TIMEOUT=${CONFORMANCE_SUITE_TIMEOUT:-600} # seconds, per suite
HEALTH_TIMEOUT=30                               # seconds for the gateway to answer /health

if [[ ! -x $NODE22 ]]; then
	echo "conformance: $NODE22 is missing; run scripts/interop-setup.sh" >&2
	exit 1
fi

go build -o bin/mcpgate ./cmd/mcpgate

gateway_pid=
stop_gateway() {
	[[ -n $gateway_pid ]] || return 0
	local pid=$gateway_pid
	gateway_pid=
	kill -TERM "$pid" 2>/dev/null || return 0
	# The gateway drains for up to its shutdown timeout (10s by default),
	# then stops its upstreams; give it a little more, then insist.
	for _ in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
trap stop_gateway EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
	"$NODE22" -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# health_ok PORT succeeds when GET /health on 127.0.0.1:PORT answers 200.
health_ok() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$1" >&3
		IFS= read -r -t 5 status <&3 || exit 1
		[[ $status == HTTP/1.?\ 200* ]]
	) 2>/dev/null
}

# gateway_args are extra arguments of `mcpgate serve` and variant names the
# run's upstream in baseline and result names; both empty for the built-in
# demo.
gateway_args=()
variant=

# start_gateway LOG starts bin/mcpgate on a free port, logging to LOG, and
# sets gateway_pid and gateway_port once /health answers.
start_gateway() {
	local log=$1
	gateway_port=$(free_port)
	bin/mcpgate serve --listen "127.0.0.1:$gateway_port" "${gateway_args[@]}" >"$log" 2>&1 </dev/null &
	gateway_pid=$!
	local deadline=$((SECONDS + HEALTH_TIMEOUT))
	until health_ok "$gateway_port"; do
		if ! kill -0 "$gateway_pid" 2>/dev/null; then
			wait "$gateway_pid" 2>/dev/null || true
			gateway_pid=
			echo "conformance: the gateway exited before answering /health; its log:" >&2
			cat "$log" >&2
			return 1
		fi
		if ((SECONDS >= deadline)); then
			echo "conformance: no 200 from /health on port $gateway_port after ${HEALTH_TIMEOUT}s; gateway log:" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.1
	done
}

# run_suite PACKAGE [ARGS...] runs the conformance suite installed as
# interop/node_modules/PACKAGE against a fresh gateway.
run_suite() {
	local pkg=$1
	shift
	local dir=interop/node_modules/$pkg
	local version
	version=$("$NODE22" -p "require('./$dir/package.json').version")
	local req= i
	for ((i = 1; i < $#; i++)); do
		if [[ ${!i} == --requirements ]]; then
			local next=$((i + 1))
			req=${!next}
		fi
	done
	local suffix=
	if [[ -n $req && $req != 2025-11-25 ]]; then
		suffix=-$req
	fi
	if [[ -n $variant ]]; then
		suffix=$suffix-$variant
	fi
	local baseline=conformance/baseline-$version$suffix.yml
	if [[ ! -f $baseline ]]; then
		echo "conformance: no baseline $baseline for suite $version; create one (see conformance/)" >&2
		return 1
	fi
	local out=.cache/conformance/$version$suffix
	rm -rf "$out"
	mkdir -p "$out"

	echo "=== conformance suite $version${*:+ $*}${variant:+ (upstream: $variant)} ==="
	start_gateway "$out/gateway.log" || return 1
	local url=http://127.0.0.1:$gateway_port/mcp status=0
	timeout --kill-after=10 "$SUITE_TIMEOUT" \
		"$NODE22" "$dir/dist/index.js" server --url "$url" "$@" \
		--expected-failures "$baseline" --output-dir "$out/results" </dev/null || status=$?
	stop_gateway
	if ((status != 0)); then
		echo "conformance: suite $version failed (status $status); gateway log: $out/gateway.log" >&2
	fi
	return "$status"
}

failed=0
run_suite conformance-0.1 || failed=1
run_suite conformance-0.2 --requirements 2025-11-25 || failed=1
run_suite conformance-0.2 --requirements 2026-07-28 || failed=1
gateway_args=(--stdio "bin/mcpgate demo-server --era legacy")
variant=legacy
run_suite conformance-0.2 --requirements 2026-07-28 || failed=1
gateway_args=(--stdio "bin/mcpgate demo-server --era modern")
variant=modern
run_suite conformance-0.2 --requirements 2026-07-28 || failed=1
# Session clients in front of the 2026-only demo: the gateway answers
# initialize itself and drives the upstream's InputRequiredResults as
# server→client requests (docs/protocol-eras.md §4.3 B).
run_suite conformance-0.2 --requirements 2025-11-25 || failed=1
gateway_args=()
variant=
if ((failed)); then
	echo "conformance: FAILED" >&2
	exit 1
fi
echo "conformance: all suites passed"
