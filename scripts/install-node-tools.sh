#!/usr/bin/env bash
# Installs the npm packages the integration tests check berth's SBOMs
# against (tests/node/package.json, pinned by its package-lock.json) into
# tests/node/node_modules (git-ignored). Idempotent: does nothing when the
# installed tree matches the lock file. Needs npm (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../tests/node"

if ! command -v npm >/dev/null 2>&1; then
	echo "install-node-tools: npm not found; run scripts/install-deps.sh" >&2
	exit 1
fi
# npm writes node_modules/.package-lock.json after a complete install.
if [ -f node_modules/.package-lock.json ] &&
	[ node_modules/.package-lock.json -nt package-lock.json ]; then
	exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
