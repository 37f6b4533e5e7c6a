# shellcheck shell=bash
# Sourced by the other scripts: sets ROOT (the repository root), puts Go on
# PATH when it is only installed at /usr/local/go, and names the Node 22
# binary that the conformance suites need (npm package node22, see
# interop/package.json).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=/usr/local/go/bin:$PATH
fi
export PATH
NODE22=$ROOT/interop/node_modules/node22/bin/node
