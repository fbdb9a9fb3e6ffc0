#!/usr/bin/env bash
# chaos's PromQL metric probe against a real Prometheus: an experiment file whose service (taskd
# on a fixed port, so Prometheus can be told where to scrape before chaos starts it) has a metric
# probe `min_over_time(taskd_db_up[2s])` read from Prometheus at every probe, and the expectation
# that it reads 0 at some point of the fault. On taskd the condition holds and the experiment
# passes; on a taskd started with --unsafe-no-fault-detection, which keeps saying its database is
# up, the same condition never holds and the experiment deviates on that check. What the probe
# reads is in the journal, one column per metric probe.
# Usage: tests/chaos/test_promql_probe.sh BUILD_DIR (from the repository root). Prints TAP.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:?usage: tests/chaos/test_promql_probe.sh BUILD_DIR}
tap_skip_under_sanitizer "the probe's C code runs in the plain build; Prometheus is the same"
tap_skip_without prometheus jq
chaos="$root/$build/bin/chaos"
taskd=${TASKD_BIN:-$root/$build/bin/taskd}

tap_workdir chaos-promql
work=$tap_work
if [ -n "${KEEP:-}" ]; then tap_keep="# kept"; fi
port=$(tap_free_port)
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 250ms
  scrape_timeout: 200ms
scrape_configs:
  - job_name: taskd
    static_configs:
      - targets: ["127.0.0.1:$port"]
EOF
tap_start_prometheus "$work/prometheus.yml" "$work" || tap_bail "Prometheus did not start: $(tail -5 "$work/prom.log")"
# Prometheus hands a new target to its scrape loop only after its discovery's first update (up to
# 5 s after the start): wait until it has tried the port once (up reads 0 there until taskd runs).
for _ in $(seq 200); do
    [ "$(curl -sf "$PROM_URL/api/v1/query?query=up" | jq '.data.result | length')" = 1 ] && break
    sleep 0.05
done

# One experiment file per taskd: the naive one gets the flag that makes it ignore its file.
write_experiment() {
    local name=$1 extra=$2
    cat >"$work/$name.json" <<EOF
{"schema": "taskbench.chaos.experiment/1", "name": "$name",
 "summary": "db-deleted, judged also through Prometheus",
 "fault": {"mechanism": "move-away", "when": "live"},
 "expect": {"preset": "fail-closed", "metrics": {"db_up_in_prometheus": "== 0"}},
 "service": {
   "command": ["$taskd", "--listen", "127.0.0.1:$port", "--db", "{db}",
               "--log-file", "{dir}/taskd.log", "--check-interval", "50ms"$extra],
   "url": "http://127.0.0.1:$port",
   "metrics": [{"name": "db_up_in_prometheus", "promql": "min_over_time(taskd_db_up[2s])",
                "prometheus": "$PROM_URL"}]},
 "load": {"rate": 100},
 "windows": {"steady": "2s", "fault": "3s", "probe_interval": "100ms"}}
EOF
}
write_experiment promql-taskd ""
write_experiment promql-naive ', "--unsafe-no-fault-detection"'

# Runs one experiment; its exit status, journal and output under $work.
run() {
    timeout 120 "$chaos" run "$work/$1.json" --work-dir "$work/w" --journal "$work/$1.journal" \
        -q >"$work/$1.out" 2>&1
}
mkdir -p "$work/w"
# The two share the port, so one at a time.
run promql-taskd
rc=$?
check() { jq -r --arg c "$2" '.experiments[0].checks[] | select(.name == $c) | .passed' "$work/$1.journal"; }
if [ "$rc" -eq 0 ] && [ "$(check promql-taskd "metric db_up_in_prometheus")" = true ]; then
    tap_ok "on taskd the PromQL probe reads 0 during the fault and the experiment passes"
else
    tap_not_ok "on taskd the PromQL probe reads 0 during the fault and the experiment passes (exit $rc)" "$(cat "$work/promql-taskd.out")"
fi
readings=$(jq '[.experiments[0].probes.metrics.db_up_in_prometheus[] | select(. != null)] | length' "$work/promql-taskd.journal" 2>/dev/null)
if [ "${readings:-0}" -gt 10 ]; then
    tap_ok "the journal has the probe's readings ($readings)"
else
    tap_not_ok "the journal has the probe's readings (${readings:-none})"
fi
run promql-naive
rc=$?
detail=$(jq -r '.experiments[0].checks[] | select(.name == "metric db_up_in_prometheus") | .detail' "$work/promql-naive.journal" 2>/dev/null)
if [ "$rc" -eq 1 ] && [ "$(check promql-naive "metric db_up_in_prometheus")" = false ]; then
    tap_ok "on a taskd that does not fail closed the same condition never holds: $detail"
else
    tap_not_ok "on a taskd that does not fail closed the same condition never holds (exit $rc)" "$(cat "$work/promql-naive.out")"
fi
tap_finish
