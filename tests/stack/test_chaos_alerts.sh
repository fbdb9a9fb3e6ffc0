#!/usr/bin/env bash
# End to end, issue 5's proof: taskd under load from chaos (loadgen's engine), scraped by a real
# Prometheus with the repository's alert rules, routed by a real Alertmanager to chaos's own
# webhook receiver. For db-deleted and volume-mount the expected alerts must fire within the
# window predicted from the (time-compressed) rule `for`, scrape and evaluation intervals and
# group_wait, and resolve after the rollback; chaos's journal records the timings, printed here
# as TAP comments. The healthy baseline (no notification at all) is tests/stack/test_local_stack.sh.
# Usage: tests/stack/test_chaos_alerts.sh BUILD_DIR. Needs prometheus, prometheus-alertmanager,
# python3 (make deps); skipped under the sanitizer flavour (it tests configuration, not C code).
set -u
build=${1:?usage: test_chaos_alerts.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
if [ -n "${TASKBENCH_SANITIZE:-}" ]; then
    echo "# skipped: the alert path is the same in the sanitizer build"
    echo "1..0"
    exit 0
fi
compress=30
chaos="$root/$build/bin/chaos"
work=$(mktemp -d /tmp/taskbench-chaos-alerts.XXXXXX)
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
cleanup() {
    stack/local/stack.sh down --dir "$work/stack" >/dev/null 2>&1
    [ -n "${KEEP:-}" ] || rm -rf "$work"; [ -n "${KEEP:-}" ] && echo "# kept $work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
taskd_port=$(free_port)
webhook_port=$(free_port)

if ! stack/local/stack.sh up --dir "$work/stack" --taskd "127.0.0.1:$taskd_port" \
    --webhook "http://127.0.0.1:$webhook_port/alerts" --compress $compress >"$work/stack.out" 2>&1; then
    not_ok "the native stack starts"
    sed 's/^/# /' "$work/stack.out"
    echo "1..$n"
    exit 1
fi
ok "the native stack starts (compressed ${compress}x)"
# shellcheck disable=SC1091
. "$work/stack/stack.env"

# Predicted latest arrival of a firing notification after the injection: taskd's detection
# (one check interval), one scrape, one evaluation, the rule's `for`, group_wait; plus a margin
# for this shared 2-core machine. Resolution: detection + scrape + evaluation + group_interval.
rule_for() {
    curl -fs "$PROMETHEUS_URL/api/v1/rules" | python3 -c '
import json, sys
name = sys.argv[1]
for g in json.load(sys.stdin)["data"]["groups"]:
    for r in g["rules"]:
        if r.get("name") == name and r["type"] == "alerting":
            print(r.get("duration", 0)); sys.exit(0)
print(0)' "$1"
}
margin=3
check=0.1

run_scenario() {
    local scenario=$1
    shift
    local journal="$work/$scenario.json"
    "$chaos" run "$scenario" --work-dir "$work/chaos" --steady 2s --fault 8s --rate 100 \
        --taskd-arg=--listen=127.0.0.1:$taskd_port --taskd-arg=--check-interval=100ms \
        --prometheus "$PROMETHEUS_URL" --alertmanager "$ALERTMANAGER_URL" \
        --webhook-listen "127.0.0.1:$webhook_port" --alert-timeout 60s --journal "$journal" -q \
        >"$work/$scenario.out" 2>&1
    local rc=$?
    if [ $rc -eq 0 ]; then
        ok "$scenario: chaos's hypothesis held, with the expected alerts"
    else
        not_ok "$scenario: chaos exited $rc"
        sed 's/^/# /' "$work/$scenario.out" | tail -30
        return
    fi
    for alert in "$@"; do
        local f predicted_fire predicted_resolve
        f=$(rule_for "$alert")
        predicted_fire=$(python3 -c "print($check + $SCRAPE_INTERVAL_SECONDS + $EVALUATION_INTERVAL_SECONDS + $f + $GROUP_WAIT_SECONDS + $margin)")
        predicted_resolve=$(python3 -c "print($check + $SCRAPE_INTERVAL_SECONDS + $EVALUATION_INTERVAL_SECONDS + $GROUP_INTERVAL_SECONDS + $margin)")
        python3 - "$journal" "$alert" "$predicted_fire" "$predicted_resolve" >"$work/check.out" <<'PY'
import json, sys
journal, alert, fire_max, resolve_max = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
exp = json.load(open(journal))["experiments"][0]
seen = [a for a in (exp.get("alerts") or {}).get("seen", []) if a["name"] == alert]
if not seen:
    print(f"{alert}: not seen"); sys.exit(1)
a = seen[0]
fire, resolve = a.get("time_to_fire_s"), a.get("time_to_resolve_s")
webhook = a.get("webhook_firing_s") is not None and a.get("webhook_resolved_s") is not None
print(f"{alert}: fired {fire} s after the injection (predicted <= {fire_max:.2f} s), "
      f"resolved {resolve} s after the rollback (predicted <= {resolve_max:.2f} s), "
      f"webhook firing+resolved: {webhook}")
ok = fire is not None and resolve is not None and fire <= fire_max and resolve <= resolve_max and webhook
sys.exit(0 if ok else 1)
PY
        local rc2=$?
        echo "# $(cat "$work/check.out")"
        if [ $rc2 -eq 0 ]; then
            ok "$scenario: $alert reached the webhook within the predicted window and resolved"
        else
            not_ok "$scenario: $alert timing or delivery"
        fi
    done
}

run_scenario db-deleted TaskdDatabaseDown TaskdDatabaseFileStateNotOk
run_scenario volume-mount TaskdDatabaseDown TaskdDatabaseFileStateNotOk
echo "1..$n"
[ $failed -eq 0 ]
