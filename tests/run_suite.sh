#!/usr/bin/env bash
# Runs every test binary of one build flavour (unit, end-to-end, fuzz corpus replay) and the
# script tests, and counts their TAP results. Usage: tests/run_suite.sh BUILD_DIR. Prints
# "N passed, N failed, N skipped" last and writes the three numbers to BUILD_DIR/tests/counts
# for tests/run_all.sh.
#
# A test that could not run is a skip, never a pass: "# SKIP" on a TAP line (cmocka's skip()
# prints "not ok N # SKIP"), or a whole script that skipped itself with the plan "1..0 # SKIP
# reason" (one skip). A program that prints no result at all, or exits non-zero without a
# failed test, counts as one failure.
set -u
build=${1:?usage: tests/run_suite.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
export TASKD_BIN="$root/$build/bin/taskd"
export TASKBENCH_ROOT="$root"
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0 skipped=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Script tests (tests/*/test_*.sh) print TAP too and get the build directory as $1; those that
# gain nothing from a sanitizer build skip themselves when TASKBENCH_SANITIZE is set.
export TASKBENCH_BUILD="$root/$build"
# The programs come from the list `make tests` writes, so a binary of a renamed test is not run.
if [ ! -s "$build/tests/list" ]; then
    echo "$build/tests/list is missing: run make tests BUILD=$build first" >&2
    exit 2
fi
for bin in $(cat "$build/tests/list") tests/*/test_*.sh; do
    if [ ! -x "$bin" ]; then
        echo "FAIL $bin: not built"
        failed=$((failed + 1))
        continue
    fi
    name=${bin#"$build"/tests/}
    if [[ "$bin" == *_replay ]]; then
        timeout 300 "$bin" tests/fuzz/corpus/"$(basename "$bin" _replay | sed 's/^fuzz_//')" >"$out" 2>&1
    elif [[ "$bin" == *.sh ]]; then
        name=${bin#tests/}
        timeout 900 "$bin" "$build" >"$out" 2>&1
    else
        timeout 600 "$bin" >"$out" 2>&1
    fi
    rc=$?
    ok=$(grep -E '^ok [0-9]+' "$out" | grep -civ '# SKIP')
    bad=$(grep -E '^not ok [0-9]+' "$out" | grep -civ '# SKIP')
    skip=$(grep -ciE '^(not )?ok [0-9]+.*# SKIP' "$out")
    why=""
    if [ $((ok + bad + skip)) -eq 0 ]; then
        if grep -qiE '^1\.\.0 *# *SKIP' "$out"; then
            skip=1 # the whole script skipped itself
        elif [ "$rc" -eq 0 ]; then
            bad=1
            why="printed no test result"
        fi
    fi
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1 # crashed, timed out or a sanitizer stopped it: count the program as one failure
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    skipped=$((skipped + skip))
    if [ "$bad" -gt 0 ]; then
        printf 'FAIL %-40s %d passed, %d failed, %d skipped (exit %d)%s\n' "$name" "$ok" "$bad" \
            "$skip" "$rc" "${why:+: $why}"
        grep -vE '^ok [0-9]+' "$out" | head -60 | sed 's/^/    /'
    elif [ "$skip" -gt 0 ]; then
        printf 'ok   %-40s %d passed, %d skipped\n' "$name" "$ok" "$skip"
        # The reasons: the skipped TAP lines and the "# skipped: why" comments before them.
        grep -iE '# SKIP|^# skipped:' "$out" | head -8 | sed 's/^/    /'
    else
        printf 'ok   %-40s %d passed\n' "$name" "$ok"
    fi
done
mkdir -p "$build/tests"
echo "$passed $failed $skipped" >"$build/tests/counts"
echo "$build: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
