#!/usr/bin/env bash
# Makes sure the validator's npm packages (PromQL/LogQL grammars, YAML, JSON schema) are installed
# in dashboards/validator/node_modules, exactly as package-lock.json pins them. Installs them with
# `npm ci` when missing or stale; says what is missing and exits 1 when node or npm is not there.
# Used by tests/stack/*.sh; safe to run by hand.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
    echo "ensure_deps: node is not installed; run 'make deps' (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 18 ]; then
    echo "ensure_deps: node $(node --version) is too old; the validator needs Node.js 18 or newer" >&2
    exit 1
fi
# npm ci records the lock file it installed from; reinstall when package-lock.json changed since.
if [ -d "$dir/node_modules" ] && [ -f "$dir/node_modules/.package-lock.json" ] &&
    [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "ensure_deps: npm is not installed and $dir/node_modules is missing; run 'make deps' (Debian: apt-get install npm)" >&2
    exit 1
fi
if ! out=$(cd "$dir" && npm ci --no-audit --no-fund 2>&1); then
    echo "ensure_deps: npm ci failed in $dir (is the npm registry reachable?):" >&2
    echo "$out" | tail -20 >&2
    exit 1
fi
exit 0
