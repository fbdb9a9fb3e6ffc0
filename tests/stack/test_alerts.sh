#!/usr/bin/env bash
# Truth for every alert (issue 9, sections 4 and 5). (The predictor's own tests — its PromQL
# evaluator and rule simulation against promtool, its routing against amtool — are
# tests/validator/unit/alerts_*.test.mjs.) `validator alerts check`: every scenario of
# stack/prometheus/scenarios predicted from the compressed rules and Alertmanager configuration,
# every expectation met, every alert rule fired by some scenario; the alert lies of
# tests/lies/alerts.json, each caught (both niced, beside the live run); and
# `validator alerts run`: every live scenario at once on native stacks (taskd, loadgen, real
# Prometheus and Alertmanager, time-compressed), each alert's measured firing, notification and
# resolution inside its predicted window, the payloads, the counters; the table is printed as
# TAP comments. (It replaces tests/stack/test_local_stack.sh: the healthy and database-outage
# scenarios check what it checked.)
# Usage: tests/stack/test_alerts.sh BUILD_DIR. Needs node (make deps), promtool, amtool, python3,
# sqlite3, prometheus, prometheus-alertmanager; root for the disk scenario (else it is skipped);
# skipped under the sanitizer flavour (it runs taskd and loadgen, whose C the other tests cover).
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:-build}
tap_skip_under_sanitizer "the alert checks exercise no C code the other tests do not"
tap_skip_without node promtool amtool python3 sqlite3 prometheus curl
command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null ||
    tap_skip "prometheus-alertmanager is not installed (make deps)"
VALIDATOR=${VALIDATOR:-$root/$build/bin/validator}
[ -x "$VALIDATOR" ] || tap_bail "no validator at $VALIDATOR: build it first (make)"
dashboards/validator/ensure_deps.sh >/dev/null 2>&1 || tap_bail "the validator's npm packages cannot be installed"
tap_workdir alerts
work=$tap_work

# ---- the predictions (check, lies) beside the live run -----------------------------------------
# `alerts check` and the lie suite only compute; the live run mostly waits on the clock. So they
# run at the same time, the computing part niced (10) so that the live stacks' Prometheus and
# Alertmanager keep their timing; in their own process group, stopped if this script stops.
# shellcheck disable=SC2016 # expanded by the inner bash
setsid bash -c '
    w=$1 v=$2
    s=$(date +%s.%N)
    nice -n 10 "$v" alerts check --json "$w/check.json" >"$w/check.out" 2>&1
    rc=$?
    echo "$rc $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $s }")" >"$w/check.rc"
    ALERT_LIES=1 nice -n 10 "$v" lies --kind alerts tests/lies/alerts.json >"$w/lies.out" 2>&1
    echo $? >"$w/lies.rc"' _ "$work" "$VALIDATOR" &
predictions=$!
stop_predictions() { [ -z "${predictions:-}" ] || kill -- -"$predictions" 2>/dev/null; }
tap_exit_hooks+=(stop_predictions)

# ---- the live scenarios ------------------------------------------------------------------------
start=$(date +%s.%N)
"$VALIDATOR" alerts run --bin "$root/$build/bin" --json "$work/run.json" >"$work/run.out" 2>"$work/run.err"
rc=$?
took=$(tap_calc '%.0f' "$(date +%s.%N) - $start")
wait "$predictions"
predictions=""

read -r check_rc check_took <"$work/check.rc" 2>/dev/null || check_rc=2
summary=$(tail -1 "$work/check.out")
if [ "$check_rc" -eq 0 ]; then
    tap_ok "validator alerts check: every scenario's expectations hold in the prediction (${check_took} s: $summary)"
else
    tap_not_ok "validator alerts check: every scenario's expectations hold in the prediction (exit $check_rc)" \
        "$(grep -E '^FAIL|alert-|validator' "$work/check.out" | head -30)"
fi
uncovered=$(node -e 'const r = require(process.argv[1]); console.log(r.results.filter((x) => x.check === "alert-coverage" && x.verdict !== "ok").map((x) => x.rule.name).join(", "))' "$work/check.json" 2>/dev/null)
rules=$(node -e 'const r = require(process.argv[1]); console.log(r.results.filter((x) => x.check === "alert-coverage").length)' "$work/check.json" 2>/dev/null)
covered() { [ -n "$rules" ] && [ "$rules" -gt 0 ] && [ -z "$uncovered" ]; }
tap_check "every alert rule ($rules) is fired by some scenario${uncovered:+ (not: $uncovered)}" covered

lies_rc=$(cat "$work/lies.rc" 2>/dev/null || echo 2)
score=$(tail -1 "$work/lies.out")
if [ "$lies_rc" -eq 0 ]; then
    tap_ok "validator lies: every alert lie is caught ($score)"
else
    tap_not_ok "validator lies: every alert lie is caught ($score)" "$(grep -vE '^ok ' "$work/lies.out")"
fi

[ -s "$work/run.json" ] || tap_bail "validator alerts run gave no report (exit $rc): $(tail -5 "$work/run.err")"
# One TAP line per scenario and kind of check; what failed in the detail.
node - "$work/run.json" >"$work/run.tap" <<'EOF'
const r = require(process.argv[2]);
const kinds = { 'alert-timing': 'every alert fired, was notified and resolved inside its predicted window',
  'alert-expectation': "the scenario's expectations hold in what was measured", 'alert-payload': 'every webhook payload is right',
  'alert-counters': "Prometheus's and Alertmanager's counters agree with the receiver", 'alert-stack': 'the stack loaded every rule, evaluated them without error and stopped',
  'alert-run': 'the scenario ran', 'alert-scenario': 'the scenario could run here' };
const by = new Map();
for (const x of [...r.results, ...r.findings.filter((f) => f.check === 'alert-run')]) {
  const scen = (x.item || '').replace(/^scenario (\S+).*$/, '$1') || x.file;
  const key = `${scen}\u0000${x.check}`;
  if (!by.has(key)) by.set(key, { scen, check: x.check, fail: [], skip: [], ok: 0 });
  const e = by.get(key);
  if (x.verdict === 'fail' || (!x.verdict && x.check === 'alert-run')) e.fail.push(x.message);
  else if (x.verdict === 'not_checked') e.skip.push(x.message);
  else e.ok++;
}
for (const e of by.values()) {
  const what = `${e.scen}: ${kinds[e.check] || e.check} (${e.ok} ok${e.skip.length ? `, ${e.skip.length} not decidable` : ''})`;
  if (e.check === 'alert-scenario' && !e.fail.length) console.log(`SKIP\t${what}\t${e.skip.join(' | ')}`);
  else console.log(`${e.fail.length ? 'FAIL' : 'OK'}\t${what}\t${e.fail.join(' | ')}`);
}
EOF
while IFS=$'\t' read -r verdict what detail; do
    case "$verdict" in
    OK) tap_ok "$what" ;;
    SKIP) tap_ok "$what # SKIP $detail" ;;
    *) tap_not_ok "$what" "$(tr '|' '\n' <<<"$detail")" ;;
    esac
done <"$work/run.tap"
sed -n '/^alert rule (and instance)/,/^$/p' "$work/run.out" | sed 's/^/# /'
grep -E '^[0-9]+ measured times' "$work/run.out" | sed 's/^/# /'
tail -1 "$work/run.out" | sed 's/^/# /'
echo "# validator alerts run took ${took} s"
[ $rc -le 1 ] || tap_not_ok "validator alerts run finished (exit $rc)" "$(tail -5 "$work/run.err")"
tap_finish
