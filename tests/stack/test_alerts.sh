#!/usr/bin/env bash
# Truth for every alert (issue 9, section 4). First the predictor: its PromQL evaluator and rule
# simulation against promtool (Prometheus's own engine) on every expression of our rules, then
# `validator alerts check`: every scenario of stack/prometheus/scenarios predicted from the
# compressed rules and Alertmanager configuration, and every expectation met, and every alert
# rule fired by some scenario.
# Usage: tests/stack/test_alerts.sh BUILD_DIR. Needs node (make deps), promtool, amtool, python3;
# skipped under the sanitizer flavour (nothing here is C).
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:-build}
tap_skip_under_sanitizer "the alert checks run no C code of their own"
tap_skip_without node promtool amtool python3
VALIDATOR=${VALIDATOR:-$root/$build/bin/validator}
[ -x "$VALIDATOR" ] || tap_bail "no validator at $VALIDATOR: build it first (make)"
dashboards/validator/ensure_deps.sh >/dev/null 2>&1 || tap_bail "the validator's npm packages cannot be installed"
tap_workdir alerts
work=$tap_work

# ---- the predictor against promtool ----------------------------------------------------------
if node --test --test-reporter=tap dashboards/validator/test/alerts_*.test.mjs >"$work/engine.tap" 2>&1; then :; fi
while IFS= read -r line; do
    case "$line" in
    "ok "*) tap_ok "predictor: ${line#ok * - }" ;;
    "not ok "*) tap_not_ok "predictor: ${line#not ok * - }" "$(grep -A30 -F "$line" "$work/engine.tap" | sed -n '2,30p')" ;;
    esac
done < <(grep -E '^(not )?ok [0-9]+ - ' "$work/engine.tap")
grep -qE '^ok [0-9]+ - ' "$work/engine.tap" || tap_not_ok "predictor tests ran" "$(tail -20 "$work/engine.tap")"

# ---- every scenario's expectations, predicted ------------------------------------------------
start=$(date +%s.%N)
"$VALIDATOR" alerts check --json "$work/check.json" >"$work/check.out" 2>&1
rc=$?
took=$(tap_calc '%.1f' "$(date +%s.%N) - $start")
summary=$(tail -1 "$work/check.out")
if [ $rc -eq 0 ]; then
    tap_ok "validator alerts check: every scenario's expectations hold in the prediction (${took} s: $summary)"
else
    tap_not_ok "validator alerts check: every scenario's expectations hold in the prediction (exit $rc)" \
        "$(grep -E '^FAIL|alert-|validator' "$work/check.out" | head -30)"
fi
uncovered=$(node -e 'const r = require(process.argv[1]); console.log(r.results.filter((x) => x.check === "alert-coverage" && x.verdict !== "ok").map((x) => x.rule.name).join(", "))' "$work/check.json" 2>/dev/null)
rules=$(node -e 'const r = require(process.argv[1]); console.log(r.results.filter((x) => x.check === "alert-coverage").length)' "$work/check.json" 2>/dev/null)
covered() { [ -n "$rules" ] && [ "$rules" -gt 0 ] && [ -z "$uncovered" ]; }
tap_check "every alert rule ($rules) is fired by some scenario${uncovered:+ (not: $uncovered)}" covered
tap_finish
