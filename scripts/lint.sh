#!/usr/bin/env bash
# Lints the Go code: gofmt (no file may need formatting), go vet, and
# staticcheck with the checks listed in staticcheck.conf. staticcheck is run
# from the Go module proxy at a pinned version, so nothing needs installing;
# the first run downloads and builds it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

STATICCHECK_VERSION=v0.8.2 # staticcheck 2026.2.2, supports Go 1.26

status=0
unformatted=$(find . \( -name node_modules -o -name .git -o -name .cache \) -prune -o -name '*.go' -print0 | xargs -0 -r gofmt -l)
if [[ -n $unformatted ]]; then
	echo "lint: these files need gofmt -w:" >&2
	echo "$unformatted" >&2
	status=1
fi
go vet ./... || status=1
go run "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" ./... || status=1
if ((status == 0)); then echo "lint: ok (gofmt, go vet, staticcheck)"; fi
exit "$status"
