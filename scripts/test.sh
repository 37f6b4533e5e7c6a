#!/usr/bin/env bash
# Runs every test, the same way for people (`make test`) and CI (.ci/run):
#   1. interop setup, if interop/node_modules is missing or stale;
#   2. the Go tests, with the race detector and without the test cache;
#   3. the official MCP conformance suites against a freshly built gateway;
#   4. gofmt, go vet and staticcheck (scripts/lint.sh).
# Extra arguments go to `go test` (for example -run or -v).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

scripts/interop-setup.sh
go test -race -count=1 "$@" ./...
scripts/conformance.sh
scripts/lint.sh
