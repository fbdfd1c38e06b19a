#!/usr/bin/env bash
# Installs the npm packages the tests compare berth with (tests/node/
# package.json, pinned by its package-lock.json) into tests/node/node_modules,
# which git ignores. Idempotent: does nothing when the installed tree
# matches the lock. Needs npm and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/../tests/node"
if ! command -v npm >/dev/null; then
	echo "install-node-tools.sh: npm is missing (scripts/install-deps.sh installs it)" >&2
	exit 1
fi
# npm ci writes node_modules/.package-lock.json; equal to the lock's
# packages means the tree is current.
if [ -f node_modules/.package-lock.json ] &&
	python3 -c 'import json,sys
a=json.load(open("package-lock.json"))["packages"]; a.pop("", None)
b=json.load(open("node_modules/.package-lock.json"))["packages"]
sys.exit(0 if {k: v.get("version") for k, v in a.items()} == {k: v.get("version") for k, v in b.items()} else 1)'; then
	exit 0
fi
# The lock's versions, as npm ci would install them; npm ci itself refuses
# a lock without the optional packages of other platforms, which npm does
# not write into it. --no-save leaves the lock as it is.
npm install --no-audit --no-fund --no-save --loglevel=error
