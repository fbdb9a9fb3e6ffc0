#!/usr/bin/env bash
# make deps (and the first step of make demo and make test): installs the Debian 12 packages
# taskbench needs to build, test and benchmark, then the pinned npm packages of the checks
# written in Node.js (scripts/npm_deps.sh).
# Idempotent and quick: it asks dpkg what is missing and installs only that. As root it runs
# apt-get; otherwise it prints the one command to run as root and exits 1.
# Usage: scripts/deps.sh [WHO]   (WHO, e.g. "make demo", names what needs the packages) kubectl (with kustomize), which the
# Kubernetes checks use, is not a Debian 12 package: those checks are skipped without it.
set -eu
who=${1:-taskbench}
packages=(
    gcc make pkg-config git ca-certificates
    libmicrohttpd-dev libsqlite3-dev libcjson-dev libcurl4-openssl-dev libcmocka-dev
    sqlite3 curl procps util-linux
    prometheus prometheus-alertmanager
    wrk hey time
    clang clang-format
    chromium nginx-light
    python3 python3-yaml python3-flask jq
    fuse3 libfuse3-dev fiu-utils libfiu-dev e2fsprogs
)
# Node.js (with npm, for the LogQL/PromQL parsers the dashboard checks use) may come from
# elsewhere than Debian (NodeSource ships npm inside nodejs); Debian's own needs the npm package.
if ! command -v node >/dev/null 2>&1; then
    packages+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
    packages+=(npm)
fi
# One dpkg-query for all of them (it runs before every make demo and make test).
installed=" $(dpkg-query -W -f='${Package}:${Status}\n' "${packages[@]}" 2>/dev/null |
    sed -n 's/^\([^:]*\):install ok installed$/\1/p' | tr '\n' ' ')"
missing=()
for p in "${packages[@]}"; do
    [[ "$installed" == *" $p "* ]] || missing+=("$p")
done
# Directories with a package-lock.json whose packages the tests use.
npm_dirs=(dashboards/validator deploy/k8s/check)
npm_deps() {
    "$(dirname "$0")/npm_deps.sh" "${npm_dirs[@]/#/$(dirname "$0")/../}"
}
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#packages[@]} packages present"
    npm_deps
    exit
fi
cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: $who needs Debian packages that are not installed: ${missing[*]}" >&2
    echo "deps: install them as root, then run it again:" >&2
    echo "    apt-get update && ${cmd[*]}" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
"${cmd[@]}" >/dev/null
echo "deps: installed ${#missing[@]} packages"
npm_deps
