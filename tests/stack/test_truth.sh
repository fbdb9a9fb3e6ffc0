#!/usr/bin/env bash
# Every panel against what really happened: one recorded run (scripts/truth_run.sh: taskd under
# loadgen, chaos moving the database away, turning its path into a directory across a restart and
# holding its write lock, the native stack's Prometheus scraping, taskd sampled from outside),
# then `validator truth` over it. Checks that every panel of our six dashboards is checked and
# tells the truth except those docs/validator.md argues have none; that what the validator cannot
# check it says, with the reason (a record without samples); that a dashboard without claims is
# held to its own queries; that every truth kind of lie of tests/lies/truth.json is caught; and
# that the HTML truth report renders in headless Chromium, one chart per checked query, silently.
# Usage: tests/stack/test_truth.sh BUILD_DIR (TAP; about two minutes, one run reused throughout).
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:-build}
tap_skip_under_sanitizer "the truth run is the same in the sanitizer build (taskd's own tests run under ASan+UBSan)"
tap_skip_without prometheus prometheus-alertmanager promtool amtool python3 curl node sqlite3 chromium
VALIDATOR=${VALIDATOR:-$root/$build/bin/validator}
[ -x "$VALIDATOR" ] || tap_bail "no validator at $VALIDATOR: build first (make)"
tap_workdir truth
work=$tap_work
validate() { timeout 300 "$VALIDATOR" "$@" 2>&1; }

# ---- one recorded run ----------------------------------------------------------------------
t0=$(date +%s)
if out=$(timeout 400 scripts/truth_run.sh "$work/run" "$build" 2>&1); then
    tap_ok "a run with faults is recorded in $(($(date +%s) - t0)) s ($(tail -1 <<<"$out" | sed 's/^truth_run: //'))"
else
    tap_not_ok "a run with faults is recorded (scripts/truth_run.sh)" "$out
$(tail -20 "$work/run/chaos.out" 2>/dev/null)"
    tap_bail "nothing to check without a run"
fi
record=$work/run/run.json

# ---- our six dashboards ---------------------------------------------------------------------
out=$(validate truth --record "$record" --json "$work/truth.json" --html "$work/truth.html")
rc=$?
summary=$(tail -1 <<<"$out")
if [ $rc -eq 0 ] && grep -qE '^ok: checked [0-9]+ of [0-9]+ panels .*, 0 do not\)' <<<"$summary"; then
    tap_ok "every checked panel tells the truth ($summary)"
else
    tap_not_ok "every checked panel tells the truth (exit $rc)" "$(grep -E '^(FAIL|note)' <<<"$out")
$summary"
    tap_keep="# the run is kept for a look:"
fi
# The panels not checked are exactly those with an argued "none" claim.
if python3 - "$work/truth.json" >"$work/unchecked.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
allowed = {"Writes and commits": "no ground truth: taskd groups writes", "Writes per commit": "no ground truth: the ratio",
           "Scrape duration": "no ground truth: Prometheus's own"}
bad = []
for p in r["stats"]["not_checked_panels"]:
    want = allowed.get(p["panel"])
    print(f'{p["file"]} "{p["panel"]}": {p["reason"]}')
    if not want or want not in (p["reason"] or ""):
        bad.append(p["panel"])
print("unexpected: " + ", ".join(bad) if bad else "")
sys.exit(1 if bad else 0)
PY
then
    tap_ok "the panels not checked are the argued ones, each with its reason ($(grep -c . "$work/unchecked.txt") lines)"
else
    tap_not_ok "the panels not checked are the argued ones, each with its reason" "$(cat "$work/unchecked.txt")"
fi
sed 's/^/#   not checked: /' "$work/unchecked.txt" | grep -v 'not checked: $'
# Faults were exercised: the fault, file-state, readiness and alert panels compared non-trivial
# points (the alert panels against the windows predicted from the rules).
faulty=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
want = {"Database availability", "Database file state over time", "5xx ratio during faults", "Database errors by code", "Log-based error rate",
        "Firing alerts", "Pending alerts"}
seen = {x["panel"]["title"] for x in r["results"] if x["verdict"] == "ok" and x["panel"]["title"] in want and x["data"]["windows"] > 10}
print(len(seen), "of", len(want))' "$work/truth.json")
tap_check "the fault, file-state, readiness, error and alert panels were compared over the faults ($faulty)" \
    [ "${faulty%% *}" = 7 ]

# ---- what it cannot check, it says --------------------------------------------------------
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); [s.pop("samples", None) for s in r["services"]]; json.dump(r, open(sys.argv[2], "w"))' \
    "$record" "$work/run/no-samples.json"
out=$(validate truth --record "$work/run/no-samples.json" dashboards/saturation.json)
rc=$?
if [ $rc -eq 0 ] && grep -qF 'panel "CPU used" (id 5) target A: not checked: no ground truth for process_cpu_seconds_total (the run record has no samples of the process from outside it' <<<"$out"; then
    tap_ok "without samples of the process, the saturation panels are not checked, and it says why"
else
    tap_not_ok "without samples of the process, the saturation panels are not checked, and it says why (exit $rc)" "$out"
fi
mkdir -p "$work/foreign"
cp dashboards/red.json "$work/foreign/my-red.json"
out=$(validate truth --record "$record" "$work/foreign/my-red.json")
rc=$?
if [ $rc -eq 0 ] && grep -qF '(against its own query: no claim)' <<<"$out" && ! grep -q '^FAIL' <<<"$out"; then
    tap_ok "a dashboard without claims is held to its own queries, and the report says so"
else
    tap_not_ok "a dashboard without claims is held to its own queries (exit $rc)" "$out"
fi
echo '{"schema": "taskbench.run/1", "prometheus": {"url": "http://127.0.0.1:1"}}' >"$work/bad.json"
out=$(validate truth --record "$work/bad.json")
rc=$?
tap_check "a record without a window is a setup error (exit $rc): $(tail -1 <<<"$out")" \
    [ $rc -eq 2 ] && grep -qF 'window needs "from" before "to"' <<<"$out"

# ---- the truth kinds of lies ------------------------------------------------------------------
out=$(LIES_RECORD=$record LIES_CLAIMS=$root/dashboards/claims validate lies --kind truth tests/lies/truth.json)
rc=$?
score=$(tail -1 <<<"$out")
if [ $rc -eq 0 ] && grep -qE '^caught ([0-9]+) of \1 lies' <<<"$score"; then
    tap_ok "every truth lie of tests/lies/truth.json is caught ($score)"
else
    tap_not_ok "every truth lie of tests/lies/truth.json is caught ($score)" "$(grep -vE '^ok ' <<<"$out")"
fi
echo "# $score"

# ---- the HTML truth report in headless Chromium ------------------------------------------------
timeout 120 chromium --headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
    --user-data-dir="$work/profile" --virtual-time-budget=10000 --enable-logging=stderr --v=0 \
    --window-size=1280,1000 --dump-dom "file://$work/truth.html" >"$work/dom" 2>"$work/chromium.log"
charts=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(sum(1 for x in r["results"] if x["verdict"] == "ok" and x["data"] and x["data"].get("windows")))' "$work/truth.json")
tap_check "the report renders (data-rendered=ok)" grep -q 'data-rendered="ok"' "$work/dom"
got=$(grep -o 'data-charts="[0-9]*"' "$work/dom" | grep -o '[0-9]*')
tap_check "one uPlot chart per checked query ($got drawn, $charts queries compared point by point)" [ "${got:-0}" -ge "$charts" ]
tap_check "every fault window is shaded and named in the header" grep -q 'db-deleted.*volume-mount.*db-locked' "$work/dom"
if grep -E 'CONSOLE|Uncaught|Refused to' "$work/chromium.log" >/dev/null; then
    tap_not_ok "nothing is written to the console, nothing is fetched" "$(grep -E 'CONSOLE|Uncaught|Refused to' "$work/chromium.log" | head)"
else
    tap_ok "nothing is written to the console, nothing is fetched"
fi
echo "# the whole check took $(($(date +%s) - t0)) s"
tap_finish
