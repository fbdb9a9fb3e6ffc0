#!/usr/bin/env bash
# The closing table of issue 12: every built-in experiment, run for real, on taskd as each
# experiment configures it (--sync normal unless it says --sync full), on taskd with
# --sync full, and on the blog's Flask app (examples/flask-tasks); then one markdown table of
# mechanism, verdict, time to detect and to recover, writes acknowledged, refused and lost
# (`chaos table`). Not part of make test (about two minutes); run it as root for the
# experiments that mount file systems, switch users or use FUSE.
#
#   tests/chaos/scenario_table.sh [BUILD_DIR] [EXPERIMENT...]     (default: build, all)
#
# Three experiments run at a time, each in a work directory of its own. Windows: steady 1 s,
# fault 2 s (pause 3 s, longer than the 2 s request timeout), probes every 50 ms; taskd checks
# its file every 50 ms. The Flask app runs at its service file's 25 requests/s, with a steady
# state that tolerates its occasional "database is locked" (up to 15 %) and a 2 s p99.
set -u
cd "$(dirname "$0")/../.." || exit 2
build=${1:-build}
shift || true
chaos=$build/bin/chaos
[ -x "$chaos" ] || { echo "scenario_table: $chaos is not built (make)" >&2; exit 2; }
if [ $# -gt 0 ]; then
    names=("$@")
else
    mapfile -t names < <("$chaos" list | awk '/^[a-z0-9]/ { print $1 }')
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/scenario-table.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 0711 "$work" # owner runs the service as nobody below it

# One run: VARIANT NAME, its journal at $work/VARIANT-NAME.json.
run_one() {
    local variant=$1 name=$2 fault=2s
    [ "$name" = pause ] && fault=3s
    local args=(run "$name" --work-dir "$work/$variant-$name" --journal "$work/$variant-$name.json"
        --steady 1s --fault "$fault" --probe-interval 50ms --max-p99 2s -q)
    case $variant in
    taskd) args+=(--taskd-arg=--check-interval=50ms) ;;
    taskd-full) args+=(--taskd-arg=--check-interval=50ms --taskd-arg=--sync=full) ;;
    flask) args+=(--service examples/flask-tasks/chaos-service.json --max-error-ratio 0.15) ;;
    esac
    "$chaos" "${args[@]}" >"$work/$variant-$name.out" 2>&1
}
export -f run_one
export chaos work
start=$(date +%s)
for variant in taskd taskd-full flask; do
    for name in "${names[@]}"; do
        echo "$variant $name"
    done
done | xargs -P 3 -L 1 bash -c 'run_one "$0" "$1"'
echo "# $((${#names[@]} * 3)) experiments in $(($(date +%s) - start)) s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for variant in taskd taskd-full flask; do
    journals=()
    for name in "${names[@]}"; do
        [ -s "$work/$variant-$name.json" ] && journals+=("$work/$variant-$name.json")
    done
    echo "## $variant"
    echo
    "$chaos" table "${journals[@]}"
    echo
done
