#!/usr/bin/env bash
# Runs every test binary of one build flavour (unit, end-to-end, fuzz corpus replay) and counts
# their TAP results. Usage: tests/run_suite.sh BUILD_DIR. Prints "N passed, N failed" last and
# writes the two numbers to BUILD_DIR/tests/counts for tests/run_all.sh.
set -u
build=${1:?usage: tests/run_suite.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
export TASKD_BIN="$root/$build/bin/taskd"
export TASKBENCH_ROOT="$root"
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Script tests (tests/*/test_*.sh) print TAP too and get the build directory as $1; those that
# gain nothing from a sanitizer build skip themselves when TASKBENCH_SANITIZE is set.
export TASKBENCH_BUILD="$root/$build"
for bin in "$build"/tests/unit/test_* "$build"/tests/e2e/test_* "$build"/tests/fuzz/*_replay \
    tests/*/test_*.sh; do
    [ -x "$bin" ] || continue
    case "$bin" in *.d|*.o) continue ;; esac
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
    # A skipped test ("ok N # SKIP" in TAP, "not ok N # SKIP" from cmocka) is neither.
    ok=$(grep -E '^ok [0-9]+' "$out" | grep -cv '# SKIP')
    bad=$(grep -E '^not ok [0-9]+' "$out" | grep -cv '# SKIP')
    skipped=$(grep -cE '^(not )?ok [0-9]+.*# SKIP' "$out")
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1 # crashed, timed out or a sanitizer stopped it: count the binary as one failure
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$bad" -gt 0 ]; then
        printf 'FAIL %-40s %d passed, %d failed (exit %d)\n' "$name" "$ok" "$bad" "$rc"
        grep -vE '^ok [0-9]+' "$out" | head -60 | sed 's/^/    /'
    else
        if [ "$skipped" -gt 0 ]; then
            printf 'ok   %-40s %d passed, %d skipped\n' "$name" "$ok" "$skipped"
            grep -E '# SKIP' "$out" | head -5 | sed 's/^/    /'
        else
            printf 'ok   %-40s %d passed\n' "$name" "$ok"
        fi
    fi
done
mkdir -p "$build/tests"
echo "$passed $failed" >"$build/tests/counts"
echo "$build: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
