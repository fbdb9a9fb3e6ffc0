#!/usr/bin/env bash
# The dashboards against reality: `validator check --profile taskbench` passes on every dashboard,
# rule file and the Alertmanager config with a live scrape and log of a real taskd (PromQL parsed
# by a real Prometheus, LogQL by Grafana's grammar); `validator lies` catches every known-bad edit
# of tests/lies/*.json (made in temporary copies) and prints the score. `validator truth` over a
# recorded run with faults is tests/stack/test_truth.sh. TAP; usage: BUILD_DIR.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:-build}
tap_skip_under_sanitizer "the dashboards are checked once, with the plain build's taskd"
TASKD_BIN=${TASKD_BIN:-$root/$build/bin/taskd}
tap_workdir dash
work=$tap_work

VALIDATOR=${VALIDATOR:-$root/$build/bin/validator}
validate() {
    timeout 120 "$VALIDATOR" "$@" 2>&1
}

# ---- setup: validator packages, a taskd, a Prometheus scraping it every second -----------------
if out=$(dashboards/validator/ensure_deps.sh 2>&1); then
    tap_ok "validator npm packages installed (npm ci from package-lock.json)"
else
    tap_not_ok "validator npm packages installed (npm ci from package-lock.json)" "$out"
    tap_bail "the validator cannot run without its packages"
fi
[ -x "$TASKD_BIN" ] || tap_bail "no taskd binary at $TASKD_BIN: build it first (make)"
[ -x "$VALIDATOR" ] || tap_bail "no validator at $VALIDATOR: build it first (make)"
command -v prometheus >/dev/null 2>&1 || tap_bail "prometheus is not installed: run make deps"

tap_start_taskd "$work/data" --busy-timeout 100ms --check-interval 50ms ||
    tap_bail "taskd did not start: $(cat "$work/data/taskd.out")"
base=$TASKD_URL

# loadgen (when built) serves its metrics on a port picked now, so Prometheus knows it from the start.
loadgen=${LOADGEN_BIN:-$(dirname "$TASKD_BIN")/loadgen}
lgport=$(tap_free_port)
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: taskd
    static_configs:
      - targets: ['${base#http://}']
  - job_name: loadgen
    static_configs:
      - targets: ['127.0.0.1:$lgport']
EOF
tap_start_prometheus "$work/prometheus.yml" "$work" || tap_bail "Prometheus did not start: $(tail -5 "$work/prom.log")"
prom=$PROM_URL
# One request of each kind before the run, so their series exist when the window opens: rate()
# cannot see what a series counted before its first sample (the exact checks do not care).
pre() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }
pre -X POST -H 'Content-Type: application/json' -d '{"task":"warm-up"}' "$base/tasks" >/dev/null
warm=$(grep -o '"id":[0-9]*' "$work/body" | head -1 | cut -d: -f2)
pre "$base/tasks/$warm" >/dev/null
pre -X PUT -H 'Content-Type: application/json' -d '{"task":"warm-up","done":true}' "$base/tasks/$warm" >/dev/null
pre -X DELETE "$base/tasks/$warm" >/dev/null
pre "$base/tasks/$warm" >/dev/null
pre "$base/tasks?limit=1" >/dev/null
pre -X POST -H 'Content-Type: application/json' -d '{' "$base/tasks" >/dev/null
nwarm=7 rows_before=0
if command -v sqlite3 >/dev/null 2>&1; then # and a 503, the answer to a write under a held lock
    (echo 'BEGIN IMMEDIATE;'; sleep 3; echo 'ROLLBACK;') | sqlite3 "$work/data/tasks.db" &
    lock=$!
    for _ in $(seq 20); do # until the lock is held: a write that got in first counts as a row
        nwarm=$((nwarm + 1))
        code=$(pre -X POST -H 'Content-Type: application/json' -d '{"task":"locked"}' "$base/tasks")
        [ "$code" = 503 ] && break
        [ "$code" = 201 ] && rows_before=$((rows_before + 1))
        sleep 0.1
    done
    kill "$lock" 2>/dev/null # the lock goes with the process
    wait "$lock" 2>/dev/null
fi
# The truth window opens only once Prometheus has scraped all of that.
for _ in $(seq 100); do
    curl -s "$prom/api/v1/query" --data-urlencode "query=sum(http_requests_total{route=~\"/tasks.*\"}) == $nwarm" |
        grep -q '"value"' && break
    sleep 0.1
done

# ---- a known workload: every request's status as the client saw it ----------------------------
declare -A by_route=() by_class=() by_route_class=()
total=0 tasks=$rows_before
request() { # METHOD PATH ROUTE [BODY]
    local code
    if [ $# -ge 4 ]; then
        code=$(curl -s -o "$work/body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' -d "$4" "$base$2")
    else
        code=$(curl -s -o "$work/body" -w '%{http_code}' -X "$1" "$base$2")
    fi
    total=$((total + 1))
    by_route[$3]=$((${by_route[$3]:-0} + 1))
    by_class[${code:0:1}xx]=$((${by_class[${code:0:1}xx]:-0} + 1))
    by_route_class[$3 ${code:0:1}xx]=$((${by_route_class[$3 ${code:0:1}xx]:-0} + 1))
    case "$1 $code" in "POST 201") tasks=$((tasks + 1)) ;; "DELETE 204") tasks=$((tasks - 1)) ;; esac
    last_code=$code
}
from=$(date +%s.%N)
ids=()
for i in $(seq 30); do
    request POST /tasks /tasks "{\"task\":\"dashboard truth $i\"}"
    ids+=("$(grep -o '"id":[0-9]*' "$work/body" | head -1 | cut -d: -f2)")
done
for i in $(seq 20); do request GET "/tasks/${ids[$((i % 30))]}" '/tasks/{id}'; done
for i in $(seq 10); do request PUT "/tasks/${ids[$i]}" '/tasks/{id}' '{"task":"updated","done":true}'; done
for i in $(seq 5); do request DELETE "/tasks/${ids[$((i + 20))]}" '/tasks/{id}'; done
for _ in $(seq 5); do request GET /tasks/999999999 '/tasks/{id}'; done
for _ in $(seq 5); do request GET '/tasks?limit=10' /tasks; done
for _ in $(seq 3); do request POST /tasks /tasks '{"task":'; done
# A held write lock: writes wait --busy-timeout and fail with 503 (SQLITE_BUSY) until it goes.
if command -v sqlite3 >/dev/null 2>&1; then
    (echo 'BEGIN IMMEDIATE;'; sleep 1.2; echo 'ROLLBACK;') | sqlite3 "$work/data/tasks.db" &
    lock=$!
    sleep 0.2
    for i in $(seq 3); do request POST /tasks /tasks "{\"task\":\"during the lock $i\"}"; done
    wait "$lock"
    sleep 0.2
fi
for i in $(seq 5); do request POST /tasks /tasks "{\"task\":\"after the lock $i\"}"; done
to=$(date +%s.%N)
curl -s "$base/metrics" >"$work/scrape.txt"

# ---- static validation against the live taskd --------------------------------------------------
if out=$(validate check --profile taskbench --taskd-scrape "$base/metrics" --taskd-log "$work/data/taskd.log" \
    --prometheus-parser "$prom"); then
    tap_ok "every dashboard, rule file and the Alertmanager config pass against a live taskd scrape and log ($(tail -1 <<<"$out"))"
else
    tap_not_ok "every dashboard, rule file and the Alertmanager config pass against a live taskd scrape and log" "$out"
fi

# ---- a real loadgen run: its live scrape for the client-side panels, its --json as the truth -----
if [ -x "$loadgen" ]; then
    "$loadgen" --rate 100 --duration 3s --warmup 0s --metrics-listen "127.0.0.1:$lgport" \
        --json "$work/run.json" --quiet --no-progress "$base" >"$work/loadgen.out" 2>&1 &
    lg=$!
    tap_pids+=("$lg")
    for _ in $(seq 40); do # mid-run, once every operation has been seen
        sleep 0.1
        curl -s "http://127.0.0.1:$lgport/metrics" >"$work/lg-scrape.txt" 2>/dev/null &&
            grep -q 'loadgen_request_duration_seconds_bucket{route="delete"' "$work/lg-scrape.txt" && break
    done
    wait "$lg"
    lgrc=$?
    if [ $lgrc -ne 0 ] || [ ! -s "$work/run.json" ]; then
        tap_not_ok "loadgen ran against taskd (exit $lgrc)" "$(cat "$work/loadgen.out")"
    else
        if out=$(validate check --profile taskbench --taskd-scrape "$base/metrics" --loadgen-scrape "$work/lg-scrape.txt" \
            --taskd-log "$work/data/taskd.log" --prometheus-parser "$prom" dashboards/client-vs-server.json dashboards/red.json); then
            tap_ok "the client vs server dashboard passes against live taskd and loadgen scrapes ($(tail -1 <<<"$out"))"
        else
            tap_not_ok "the client vs server dashboard passes against live taskd and loadgen scrapes" "$out"
        fi
    fi
else
    tap_n=$((tap_n + 1))
    echo "ok $tap_n # SKIP no loadgen binary at $loadgen: the live loadgen scrape is not checked"
fi

# ---- the lie suite: every known-bad edit is caught, the unchanged files pass --------------------
# tests/lies/*.json: the static lies need a scrape, a log with a database error and a parser.
export LIES_SCRAPE=$work/scrape.txt LIES_LOG=$work/data/taskd.log LIES_PROMETHEUS=$prom
out=$(validate lies tests/lies/*.json)
rc=$?
score=$(tail -1 <<<"$out")
if [ $rc -eq 0 ] && grep -q '^caught [0-9]* of [0-9]* lies' <<<"$score"; then
    tap_ok "the validator catches every lie of tests/lies ($score)"
    grep -E '^(skip|FAIL) ' <<<"$out" | sed 's/^/#   /'
else
    tap_not_ok "the validator catches every lie of tests/lies ($score)" "$(grep -vE '^ok ' <<<"$out")"
fi
echo "# $score"

# loadgen metrics are required once a loadgen scrape is given: here one without any.
out=$(validate check --profile taskbench --taskd-scrape "$work/scrape.txt" --loadgen-scrape "$work/scrape.txt" \
    --prometheus-parser "$prom" dashboards/client-vs-server.json)
rc=$?
if [ $rc -eq 1 ] && grep -qF 'metric loadgen_backlog is not in scrape' <<<"$out"; then
    tap_ok "loadgen metrics are required when a loadgen scrape is given"
else
    tap_not_ok "loadgen metrics are required when a loadgen scrape is given (exit $rc)" "$out"
fi

out=$(validate check --taskd-scrape "$work/scrape.txt" --prometheus-bin "$work/no-such-prometheus" dashboards/red.json)
rc=$?
if [ $rc -eq 2 ] && grep -qF 'cannot start' <<<"$out" && grep -qF 'not installed' <<<"$out"; then
    tap_ok "a missing Prometheus parser is a setup error (exit 2), not a pass"
else
    tap_not_ok "a missing Prometheus parser is a setup error (exit 2), not a pass (exit $rc)" "$out"
fi

tap_finish
