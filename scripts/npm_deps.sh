#!/usr/bin/env bash
# Installs the npm packages of each DIR exactly as its package-lock.json pins them (`npm ci`),
# when node_modules is missing or older than the lock file; quiet and quick otherwise. Says what
# is missing and exits 1 when node or npm is not there (make deps installs them).
# Used by make deps, by dashboards/validator/ensure_deps.sh and by the tests that need the packages.
# Usage: scripts/npm_deps.sh DIR...
set -u
if ! command -v node >/dev/null 2>&1; then
    echo "npm_deps: node is not installed; run 'make deps' (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 18 ]; then
    echo "npm_deps: node $(node --version) is too old; Node.js 18 or newer is needed" >&2
    exit 1
fi
rc=0
for dir in "$@"; do
    dir=$(cd "$dir" && pwd) || { rc=1; continue; }
    # npm ci records the lock file it installed from; reinstall when package-lock.json changed since.
    if [ -f "$dir/node_modules/.package-lock.json" ] &&
        [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        continue
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "npm_deps: npm is not installed and $dir/node_modules is missing; run 'make deps' (Debian: apt-get install npm)" >&2
        exit 1
    fi
    if ! out=$(cd "$dir" && npm ci --no-audit --no-fund 2>&1); then
        echo "npm_deps: npm ci failed in $dir (is the npm registry reachable?):" >&2
        echo "$out" | tail -20 >&2
        rc=1
    fi
done
exit $rc
