#!/usr/bin/env bash
# make test: builds and runs the whole suite twice, plainly and under AddressSanitizer +
# UndefinedBehaviorSanitizer, then prints the total as "N passed, N failed, N skipped" on the last
# line (a test that could not run here is skipped, never passed; tests/run_suite.sh says why).
set -u
cd "$(dirname "$0")/.." || exit 2
jobs=$(nproc 2>/dev/null || echo 2)
total_passed=0 total_failed=0 total_skipped=0
for flavour in "" "address,undefined"; do
    label=${flavour:-plain}
    echo "== build ($label)"
    if ! make -s -j"$jobs" tests SANITIZE="$flavour" >/tmp/taskbench-build.$$ 2>&1; then
        cat /tmp/taskbench-build.$$
        rm -f /tmp/taskbench-build.$$
        echo "build failed ($label)"
        total_failed=$((total_failed + 1))
        continue
    fi
    rm -f /tmp/taskbench-build.$$
    build=build
    [ -n "$flavour" ] && build=build/sanitize
    echo "== tests ($label)"
    rm -f "$build/tests/counts"
    TASKBENCH_SANITIZE="$flavour" make -s test-one SANITIZE="$flavour"
    read -r p f s <"$build/tests/counts" || { p=0; f=1; s=0; }
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    total_skipped=$((total_skipped + ${s:-0}))
done
echo
echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
[ "$total_failed" -eq 0 ]
