#!/usr/bin/env bash
# validator: runs taskbench's dashboard and alert validator (dashboards/validator/validator.mjs)
# with Node.js, after making sure its npm packages are installed exactly as package-lock.json
# pins them. `make` installs this launcher as build/bin/validator; the path from there to the
# validator's directory is written in at that time (VALIDATOR_DIR_FROM_BIN below), so the tree
# may be moved as a whole. Exit codes are the validator's: 0 clean, 1 findings, 2 usage or setup
# error (node missing, packages not installable).
set -u
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
dir=$(cd "$here/@VALIDATOR_DIR_FROM_BIN@" 2>/dev/null && pwd) || {
    echo "validator: cannot find the validator's directory from $here (rebuild with make)" >&2
    exit 2
}
"$dir/ensure_deps.sh" || exit 2
exec node "$dir/validator.mjs" "$@"
