#!/usr/bin/env bash
# The validator on someone else's things: a node-exporter-style dashboard exported "for sharing
# externally" (__inputs, a library panel in __elements and one in a separate file, collapsed and
# open rows, a mixed Prometheus/Loki panel, a string datasource, no job variable), a host rule
# file and an Alertmanager config with the blog's catch-all-to-nowhere route — written for these
# tests (tests/validator/foreign/), checked against a real Prometheus that scrapes a node-style
# exposition and itself. Variables come from label_values() there; findings point at the right
# characters of the file; the foreign lies of tests/lies/foreign.json are all caught.
# TAP; usage: tests/validator/test_foreign.sh BUILD_DIR.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:-build}
tap_skip_under_sanitizer "the validator is Node.js: the sanitizer build changes nothing in it"
tap_skip_without node prometheus python3 curl jq
VALIDATOR=${VALIDATOR:-$root/$build/bin/validator}
[ -x "$VALIDATOR" ] || tap_bail "no validator at $VALIDATOR: build it first (make)"
tap_workdir foreign
work=$tap_work
fx=tests/validator/foreign

# ---- a node-style target (the exposition served over HTTP) and a Prometheus scraping it -------
mkdir -p "$work/www"
cp "$fx/node-metrics.prom" "$work/www/metrics"
node_port=$(tap_free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$node_port" >"$work/http.log" 2>&1 &
tap_pids+=("$!")
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$node_port']
  - job_name: prometheus
    static_configs:
      - targets: ['PROM_SELF']
EOF
# Prometheus scrapes itself too: its address is known once it runs, so the config is reloaded.
tap_start_prometheus "$work/prometheus.yml" "$work" || tap_bail "Prometheus did not start: $(tail -5 "$work/prom.log")"
prom=$PROM_URL
sed -i "s|PROM_SELF|${prom#http://}|" "$work/prometheus.yml"
kill -HUP "$PROM_PID"
for _ in $(seq 100); do
    n=$(curl -s "$prom/api/v1/query" --data-urlencode 'query=count(up{job="prometheus"} == 1) + count(node_uname_info)' |
        jq -r '.data.result[0].value[1] // 0')
    [ "$n" = 2 ] && break
    sleep 0.1
done
[ "$n" = 2 ] || tap_bail "Prometheus did not scrape the node fixture and itself: $(tail -3 "$work/prom.log")"

validate() { # prints the text report; the JSON one goes to $work/report.json
    timeout 120 "$VALIDATOR" check --json "$work/report.json" "$@" 2>&1
}
finding_count() { jq '.findings | length' "$work/report.json"; }

# ---- the export passes, with its variables resolved against the Prometheus ----------------------
out=$(validate --prometheus "$prom" --library-panel "$fx/library-disk-read.json" \
    "$fx/host-overview.json" "$fx/node-rules.yml")
rc=$?
if [ $rc -eq 0 ] && [ "$(jq '.stats.panels' "$work/report.json")" = 11 ] &&
    [ "$(jq '.stats.promql_queries' "$work/report.json")" -ge 15 ]; then
    tap_ok "a node-exporter-style export and a host rule file pass against their Prometheus ($(tail -1 <<<"$out"))"
else
    tap_not_ok "a node-exporter-style export and a host rule file pass against their Prometheus (exit $rc)" "$out"
fi
vars=$(jq -c '.inputs.variables["tests/validator/foreign/host-overview.json"]' "$work/report.json")
want='{"instance":{"values":["127.0.0.1:'$node_port'"],"source":"prometheus"},"hostname":{"values":["host-a"],"source":"prometheus"},"device":{"values":["$__all"],"source":"prometheus"}}'
if [ "$vars" = "$want" ]; then
    tap_ok "variables come from label_values() against the Prometheus (the exported current value, absent there, gives way; chained and All variables too)"
else
    tap_not_ok "variables come from label_values() against the Prometheus" "got  $vars
want $want"
fi

# ---- a library panel missing from the export: one finding, at the panel, the rest still checked --
out=$(validate --prometheus "$prom" "$fx/host-overview.json")
rc=$?
line=$(grep -n '"uid": "node-disk-read"' "$fx/host-overview.json" | head -1 | cut -d: -f1)
got=$(jq -r '[.findings[] | "\(.check) \(.panel.title) \(.line)"] | join(";")' "$work/report.json")
# the finding points at the panel object, which opens a few lines above its libraryPanel uid
if [ $rc -eq 1 ] && [ "$(finding_count)" = 1 ] && [[ "$got" =~ ^library-panel\ Disk\ read\ ([0-9]+)$ ]] &&
    [ "${BASH_REMATCH[1]}" -lt "$line" ] && [ "${BASH_REMATCH[1]}" -gt $((line - 12)) ] &&
    [ "$(jq '.stats.promql_queries' "$work/report.json")" = 11 ]; then
    tap_ok "a library panel that is in neither the export nor a file is one finding at that panel; the other panels are checked"
else
    tap_not_ok "a library panel that is in neither the export nor a file is one finding at that panel" "$out"
fi

# ---- positions: line and column point at the characters that are wrong, escapes counted ---------
sed 's/node_memory_MemAvailable_bytes{instance=\\"$instance\\"} \/ /node_memory_MemAvailabel_bytes{instance=\\"$instance\\"} \/ /' \
    "$fx/host-overview.json" >"$work/typo.json"
out=$(validate --prometheus "$prom" --library-panel "$fx/library-disk-read.json" "$work/typo.json")
pos=$(jq -r '.findings[] | select(.check == "metric-unknown") | "\(.line) \(.column)"' "$work/report.json")
read -r l c <<<"$pos"
at=$(sed -n "${l:-0}p" "$work/typo.json" | cut -c"${c:-1}"- | cut -c1-30)
if [ "$at" = "node_memory_MemAvailabel_bytes" ] && grep -qF 'did you mean node_memory_MemAvailable_bytes?' <<<"$out"; then
    tap_ok "a finding's line:column ($l:$c) is where the wrong metric name starts in the file"
else
    tap_not_ok "a finding's line:column is where the wrong metric name starts in the file" "position $pos points at '$at'
$out"
fi

# ---- datasources named by a string: checked once their type is known ---------------------------
# (as an older Grafana exports them: no __inputs, no __requires, "datasource": "Prometheus")
jq 'del(.__inputs, .__requires) | walk(if type == "object" and has("datasource") then
        .datasource |= (if . == "${DS_PROMETHEUS}" or (type == "object" and .uid == "${DS_PROMETHEUS}") then "Prometheus"
                        elif type == "object" and .uid == "${DS_LOKI}" then "Loki" else . end) else . end)' \
    "$fx/host-overview.json" >"$work/names.json"
out=$(validate --prometheus "$prom" --library-panel "$fx/library-disk-read.json" "$work/names.json")
rc1=$? notes=$(jq -r '[.notes[].message] | join("; ")' "$work/report.json") q1=$(jq '.stats.promql_queries // 0' "$work/report.json")
out2=$(validate --prometheus "$prom" --library-panel "$fx/library-disk-read.json" --datasource Prometheus=prometheus \
    --datasource Loki=loki "$work/names.json")
rc2=$? q2=$(jq '.stats.promql_queries // 0' "$work/report.json")
if [ $rc1 -eq 0 ] && grep -qF 'datasource "Prometheus" has no known type' <<<"$notes" && [ $rc2 -eq 0 ] && [ "$q2" -gt "$q1" ]; then
    tap_ok "a datasource named by a string with no type known is reported as not checked, and --datasource NAME=TYPE checks it ($q1 then $q2 PromQL queries)"
else
    tap_not_ok "a datasource named by a string is not checked until its type is known" "exit $rc1/$rc2, $q1/$q2 queries; notes: $notes
$out
$out2"
fi

# ---- offline: no metric source, the checks that need none still run -------------------------------
out=$(validate --no-prometheus-parser --library-panel "$fx/library-disk-read.json" "$fx/host-overview.json" "$fx/node-rules.yml")
if [ $? -eq 0 ] && grep -qF 'metric names, types and labels not checked' <<<"$out"; then
    tap_ok "without a Prometheus or a scrape, the export passes and the report says what was not checked"
else
    tap_not_ok "without a Prometheus or a scrape, the export passes and the report says what was not checked" "$out"
fi

# ---- the blog's Alertmanager config: amtool accepts it, the validator does not ------------------
out=$(validate "$fx/alertmanager-null-root.yml")
if [ $? -eq 1 ] && [ "$(finding_count)" = 1 ] &&
    [ "$(jq -r '.findings[0].check' "$work/report.json")" = alertmanager-receiver ] &&
    amtool check-config "$fx/alertmanager-null-root.yml" >/dev/null 2>&1; then
    tap_ok "a catch-all route to a receiver with no integration is found (amtool check-config accepts it; Watchdog's silencing route is not reported)"
else
    tap_not_ok "a catch-all route to a receiver with no integration is found" "$out"
fi

# ---- usage and setup errors exit 2 and say why -----------------------------------------------------
usage_ok=1 why=""
for args in "check" "nosuch" "check --var novalue $fx/host-overview.json" "check $work/missing.json" \
    "check --prometheus http://127.0.0.1:1 $fx/host-overview.json"; do
    # shellcheck disable=SC2086 # the arguments are split on purpose
    o=$(timeout 60 "$VALIDATOR" $args 2>&1)
    rc=$?
    if [ $rc -ne 2 ] || [ -z "$o" ]; then
        usage_ok=0
        why+="validator $args: exit $rc: $o"$'\n'
    fi
done
if [ $usage_ok = 1 ]; then
    tap_ok "usage and setup errors (no files, unknown command, bad option, missing file, unreachable Prometheus) exit 2 with a reason"
else
    tap_not_ok "usage and setup errors exit 2 with a reason" "$why"
fi

# ---- the foreign lies ---------------------------------------------------------------------------
export FOREIGN_PROMETHEUS=$prom
out=$(timeout 300 "$VALIDATOR" lies --kind foreign --kind foreign-single tests/lies/*.json 2>&1)
rc=$?
score=$(tail -1 <<<"$out")
if [ $rc -eq 0 ] && grep -q '^caught [0-9]* of [0-9]* lies' <<<"$score" && ! grep -q 'not run' <<<"$score"; then
    tap_ok "every foreign lie is caught ($score)"
else
    tap_not_ok "every foreign lie is caught ($score)" "$(grep -vE '^ok ' <<<"$out")"
fi
echo "# $score"

tap_finish
