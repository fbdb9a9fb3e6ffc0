#!/usr/bin/env bash
# chaos --html: runs one real experiment that deviates (db-deleted against a taskd started with
# --unsafe-no-fault-detection) and draws its report in headless Chromium: the page renders, the
# three timeline charts are drawn with the fault window shaded and the four markers, the page has
# one heading (chaos's title) and spaced blocks, the verdict says the run deviated and names the
# failed checks, nothing is logged to the console.
# Usage: tests/chaos/test_report.sh BUILD_DIR (from the repository root). Prints TAP.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:?usage: tests/chaos/test_report.sh BUILD_DIR}
tap_skip_under_sanitizer "the page does not change in a sanitizer build (tests/e2e/chaos/test_experiments runs chaos under ASan+UBSan)"
chaos="$build/bin/chaos"
taskd=${TASKD_BIN:-$build/bin/taskd}

tap_skip_without chromium

tap_workdir chaos-report
tmp=$tap_work

out=$(timeout 120 "$chaos" run db-deleted --work-dir "$tmp/work" --taskd "$taskd" --steady 1s \
    --fault 2s --probe-interval 50ms --taskd-arg=--check-interval=50ms \
    --taskd-arg=--unsafe-no-fault-detection --html "$tmp/report.html" -q 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && [ -s "$tmp/report.html" ]; then
    tap_ok "chaos exits 1 for a taskd that does not fail closed, and writes the report"
else
    tap_not_ok "chaos exits 1 for a taskd that does not fail closed, and writes the report (exit $rc)" "$out"
    tap_finish
    exit 1
fi

timeout 60 chromium --headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
    --user-data-dir="$tmp/profile" --virtual-time-budget=5000 --enable-logging=stderr --v=0 \
    --window-size=1280,1000 --dump-dom "file://$tmp/report.html" >"$tmp/dom" 2>"$tmp/log"

check() {
    local desc=$1 pattern=$2 want=$3 got
    got=$(grep -o "$pattern" "$tmp/dom" | wc -l)
    if [ "$got" -eq "$want" ]; then tap_ok "$desc"; else tap_not_ok "$desc: $got, not $want" "$(head -c 2000 "$tmp/dom")"; fi
}
check "the page renders (data-rendered=ok)" 'data-rendered="ok"' 1
check "the page has one heading, naming the scenario" '<h1>' 1
check "the heading is chaos: SCENARIO" '<h1>chaos: db-deleted</h1>' 1
check "the charts stand one grid gap below the cards" 'class="charts" style="margin-top: 14px;"' 1
check "the checks table has its heading" '<h3>Checks</h3>' 1
check "the three timeline charts are drawn" 'data-chart="\(rate\|latency\|ready\)-db-deleted"' 3
check "each chart shades the fault window" 'class="band"' 3
for m in injected "rolled back" recovered; do
    check "each chart marks '$m'" "class=\"marker-label\"[^>]*>$m<" 3
done
check "the verdict card is marked bad" 'class="card bad" data-card="verdict"' 1
check "a notice names the deviation" '<strong>taskd deviated:</strong> db-deleted (deviated)' 1
if grep -q '>FAILED<' "$tmp/dom" && grep -q 'writes refused' "$tmp/dom"; then
    tap_ok "the checks table shows the failed checks"
else
    tap_not_ok "the checks table shows the failed checks"
fi
# Chromium's log carries every console message, CSP violation and uncaught exception.
if grep -E 'CONSOLE|Uncaught' "$tmp/log" >/dev/null; then
    tap_not_ok "nothing is written to the console" "$(grep -E 'CONSOLE|Uncaught' "$tmp/log")"
else
    tap_ok "nothing is written to the console"
fi
tap_finish
