#!/usr/bin/env bash
# Checks of stack/alertmanager/alertmanager.yml: amtool check-config on it, on the native stack's
# compressed copy and on the commented example receivers; amtool config routes test for the labels
# of every alert in the rule files (so a new alert whose severity has no route fails); and the
# inhibition rules on a real Alertmanager, fed alerts through its API.
# Usage: tests/stack/test_alertmanager.sh BUILD_DIR (TAP on stdout; a few seconds).
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
config=stack/alertmanager/alertmanager.yml

tap_skip_under_sanitizer "configuration checks do not depend on the sanitizer build"
tap_skip_without amtool python3 curl jq
python3 -c 'import yaml' 2>/dev/null || tap_skip "python3-yaml is not installed"
am_bin=$(command -v prometheus-alertmanager || command -v alertmanager) ||
    tap_skip "prometheus-alertmanager is not installed (make deps)"

tap_workdir am
work=$tap_work

tap_check "amtool check-config accepts alertmanager.yml" amtool check-config "$config"

compressed() {
    stack/local/stack.sh generate --dir "$work/local" --compress 30 \
        --webhook http://127.0.0.1:19095/alerts >/dev/null || return 1
    amtool check-config "$work/local/alertmanager.yml" || return 1
    grep -q 'url: http://127.0.0.1:19095/alerts' "$work/local/alertmanager.yml" || return 1
    ! grep -q 'webhook:9095' "$work/local/alertmanager.yml"
}
tap_check "amtool check-config accepts the native stack's compressed copy, with its webhook URL" compressed

# The commented example receivers, uncommented in place of the webhook ones, are valid too.
examples() {
    python3 - "$config" "$work/examples.yml" <<'EOF' || return 1
import re, sys, yaml
text = open(sys.argv[1]).read()
block = re.search(r"# --- example receivers \(begin\) ---\n(.*?)# --- example receivers \(end\) ---",
                  text, flags=re.S).group(1)
examples = yaml.safe_load("\n".join(line[2:] for line in block.splitlines()))
conf = yaml.safe_load(text)
names = {r["name"] for r in examples}
conf["receivers"] = [r for r in conf["receivers"] if r["name"] not in names] + examples
yaml.safe_dump(conf, open(sys.argv[2], "w"))
print(f"{len(examples)} example receivers: {sorted(names)}")
EOF
    amtool check-config "$work/examples.yml"
}
tap_check "the commented example receivers (PagerDuty, Slack, email) are a valid configuration" examples

# Every alerting rule's labels, as Prometheus would send them, reach the receiver named after
# their severity ("none" goes to the blackhole). The labels come from the rule files.
python3 - >"$work/alerts.txt" <<'EOF'
import glob, yaml
receiver = {"page": "page", "ticket": "ticket", "info": "info", "none": "blackhole"}
for path in sorted(glob.glob("stack/prometheus/rules/*.yml")):
    for group in yaml.safe_load(open(path))["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                labels = dict(rule.get("labels", {}), alertname=rule["alert"], instance="taskd:5000")
                want = receiver.get(labels.get("severity"), "(no route for this severity)")
                print(want, " ".join(f"{k}={v}" for k, v in sorted(labels.items())))
EOF
while read -r want labels; do
    # shellcheck disable=SC2086 # one argument per label
    tap_check "route: $labels -> $want" \
        amtool config routes test --config.file="$config" --verify.receivers="$want" $labels
done <"$work/alerts.txt"
tap_check "an alert without a known severity lands on the default receiver, not nowhere" \
    amtool config routes test --config.file="$config" --verify.receivers=default \
    alertname=Unrouted service=taskd severity=critical

# Inhibition, on a real Alertmanager: alerts posted as Prometheus would, then their status read
# back. The webhook URL points at a closed port; notifications are not the point here.
port=$(tap_free_port)
"$am_bin" --config.file="$work/local/alertmanager.yml" --storage.path="$work/am-data" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address= >"$work/am.log" 2>&1 &
tap_pids+=("$!")
AM="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fs -o /dev/null "$AM/-/ready" && break; sleep 0.1; done
post() { # post ALERTNAME INSTANCE SEVERITY [LABEL=VALUE]...
    local labels
    labels=$(python3 -c '
import json, sys
l = dict(alertname=sys.argv[1], instance=sys.argv[2], severity=sys.argv[3], service="taskd")
l.update(a.split("=", 1) for a in sys.argv[4:])
print(json.dumps(l))' "$@")
    echo "{\"labels\": $labels, \"annotations\": {\"summary\": \"test\"}}"
}
{
    echo "["
    post TaskdDatabaseDown a page
    echo ","; post TaskdDatabaseFileStateNotOk a page state=unlinked
    echo ","; post TaskdErrorBudgetBurn a page long_window=1h
    echo ","; post TaskdErrorBudgetBurn a ticket long_window=1d
    echo ","; post TaskdHighErrorRatio a ticket method=GET route=/tasks
    echo ","; post TaskdHighLatency a ticket route=/tasks
    echo ","; post TaskdDatabaseErrors a ticket code=SQLITE_IOERR
    echo ","; post TaskdHighErrorRatio b ticket method=GET route=/tasks
    echo ","; post TaskdDatabaseRecentlyDown c none
    echo ","; post TaskdErrorBudgetBurn c page long_window=6h
    echo ","; post TaskdErrorBudgetBurn c ticket long_window=3d
    echo ","; post TaskdHighErrorRatio c ticket method=PUT 'route=/tasks/{id}'
    echo "]"
} >"$work/alerts.json"
posted=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data @"$work/alerts.json" "$AM/api/v2/alerts")
tap_check "Alertmanager accepts the alerts posted to its API (HTTP $posted)" [ "$posted" = 200 ]
# state ALERTNAME INSTANCE [LONG_WINDOW]: active or suppressed (inhibited), once all 12 are in.
state() {
    curl -s "$AM/api/v2/alerts" | jq -r --arg a "$1" --arg i "$2" --arg w "${3:-}" '.[] |
        select(.labels.alertname == $a and .labels.instance == $i and
               ((.labels.long_window // "") == $w))
        | if (.status.inhibitedBy | length) > 0 then "suppressed" else .status.state end'
}
for _ in $(seq 1 50); do
    [ "$(curl -s "$AM/api/v2/alerts" | jq length)" = 12 ] && [ "$(state TaskdHighLatency a)" = suppressed ] && break
    sleep 0.1
done
expect() { # expect STATE ALERTNAME INSTANCE [LONG_WINDOW] -- WHY
    local want=$1 got
    got=$(state "$2" "$3" "${4:-}")
    tap_check "$2 on $3${4:+ ($4)} is $want: $6 (got ${got:-nothing})" [ "$got" = "$want" ]
}
expect active TaskdDatabaseDown a "" -- "the outage itself"
expect active TaskdDatabaseFileStateNotOk a "" -- "its cause, with the advice"
expect suppressed TaskdErrorBudgetBurn a 1h -- "a symptom of TaskdDatabaseDown"
expect suppressed TaskdErrorBudgetBurn a 1d -- "tickets too, while the database is down"
expect suppressed TaskdHighErrorRatio a "" -- "a symptom of TaskdDatabaseDown"
expect suppressed TaskdHighLatency a "" -- "a symptom of TaskdDatabaseDown"
expect suppressed TaskdDatabaseErrors a "" -- "a symptom of TaskdDatabaseDown"
expect active TaskdHighErrorRatio b "" -- "another instance's database is fine"
expect suppressed TaskdErrorBudgetBurn c 6h -- "the outage's errors after the recovery do not page"
expect active TaskdErrorBudgetBurn c 3d -- "the budget it spent still opens a ticket"
expect suppressed TaskdHighErrorRatio c "" -- "held back after the recovery too"
expect active TaskdDatabaseRecentlyDown c "" -- "its own inhibition source, never notified (blackhole)"

tap_finish
