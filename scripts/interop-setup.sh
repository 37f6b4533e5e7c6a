#!/usr/bin/env bash
# Installs the third-party MCP software the interop and conformance tests use
# (interop/package.json), with `npm ci`, when interop/node_modules is missing
# or older than interop/package-lock.json. Otherwise it does nothing.
#
# npm writes node_modules/.package-lock.json at the end of every install, so
# that file's age is the age of the installation; a failed install leaves it
# missing and the next run tries again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT/interop"

installed=node_modules/.package-lock.json
if [[ -f $installed && ! $installed -ot package-lock.json ]]; then
	exit 0
fi
echo "interop-setup: installing interop/node_modules (npm ci)" >&2
npm ci --no-audit --no-fund
