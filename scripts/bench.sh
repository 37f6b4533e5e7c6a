#!/usr/bin/env bash
# Runs the Go benchmarks. A placeholder: the real benchmark harness (load
# against a running gateway, compared with other gateways) comes later.
# Extra arguments go to `go test` (for example -bench=Relay -count=5).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

go test -run='^$' -bench=. -benchmem "$@" ./...
