#!/usr/bin/env bash
# End to end, issue 5's proof: taskd under load from chaos (loadgen's engine), scraped by a real
# Prometheus with the repository's alert rules, routed by a real Alertmanager to chaos's own
# webhook receiver. For volume-mount (a start-up fault: chaos restarts taskd on a directory) the
# expected alerts must fire within the window predicted from the (time-compressed) rule `for`,
# scrape and evaluation intervals and group_wait, and resolve after the rollback; chaos's journal
# records the timings, printed here as TAP comments. This checks chaos's own alert checks
# (--prometheus, --alertmanager, --webhook-listen); every alert rule's timing, the healthy
# baseline and the database outage moved away while serving are tests/stack/test_alerts.sh's.
# Usage: tests/stack/test_chaos_alerts.sh BUILD_DIR. Needs prometheus, prometheus-alertmanager,
# python3 (make deps); skipped under the sanitizer flavour (it tests configuration, not C code).
set -u
build=${1:?usage: test_chaos_alerts.sh BUILD_DIR}
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
tap_skip_under_sanitizer "the alert path is the same in the sanitizer build"
compress=30
chaos="$root/$build/bin/chaos"
tap_workdir chaos-alerts
work=$tap_work
if [ -n "${KEEP:-}" ]; then tap_keep="# kept"; fi
# shellcheck disable=SC2317 # run by the EXIT trap
stack_down() { stack/local/stack.sh down --dir "$work/stack" >/dev/null 2>&1; }
tap_exit_hooks+=(stack_down)

taskd_port=$(tap_free_port)
webhook_port=$(tap_free_port)

if ! stack/local/stack.sh up --dir "$work/stack" --taskd "127.0.0.1:$taskd_port" \
    --webhook "http://127.0.0.1:$webhook_port/alerts" --compress $compress >"$work/stack.out" 2>&1; then
    tap_not_ok "the native stack starts"
    sed 's/^/# /' "$work/stack.out"
    tap_finish
    exit 1
fi
tap_ok "the native stack starts (compressed ${compress}x)"
# shellcheck disable=SC1091
. "$work/stack/stack.env"

# Predicted latest arrival of a firing notification after the injection: taskd's detection
# (one check interval), one scrape, one evaluation to turn the alert pending, its `for` (checked
# only at evaluations, so up to one more evaluation), group_wait; plus a 1 s margin for this
# shared 2-core machine. Resolution: detection + scrape + evaluation + group_interval (the
# resolved notification waits for the group's next flush) + the margin.
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
margin=1
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
        tap_ok "$scenario: chaos's hypothesis held, with the expected alerts"
    else
        tap_not_ok "$scenario: chaos exited $rc"
        sed 's/^/# /' "$work/$scenario.out" | tail -30
        return
    fi
    for alert in "$@"; do
        local f predicted_fire predicted_resolve
        f=$(rule_for "$alert")
        predicted_fire=$(python3 -c "print($check + $SCRAPE_INTERVAL_SECONDS + 2 * $EVALUATION_INTERVAL_SECONDS + $f + $GROUP_WAIT_SECONDS + $margin)")
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
            tap_ok "$scenario: $alert reached the webhook within the predicted window and resolved"
        else
            tap_not_ok "$scenario: $alert timing or delivery"
        fi
    done
}

run_scenario volume-mount TaskdDatabaseDown TaskdDatabaseFileStateNotOk
tap_finish
