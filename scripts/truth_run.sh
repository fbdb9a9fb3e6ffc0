#!/usr/bin/env bash
# A recorded run for the validator's truth mode: taskd under load from loadgen (its own metrics
# scraped), chaos breaking its database in several ways — a file moved away while serving, a
# bind mount that turned the path into a directory (a restart: counters reset), a held write lock —
# all scraped by the native stack's Prometheus with the repository's rules, time-compressed, and
# taskd sampled from outside (/proc, statvfs) by scripts/proc_sampler.py. It ends with
# DIR/run.json, the run record (docs/validator.md) that names everything the run left: the
# loadgen result, the chaos journal, taskd's log and database, the samples, the Prometheus data.
#
#   scripts/truth_run.sh DIR [BUILD_DIR]
#
# Prometheus is stopped at the end and its data directory kept (the validator reopens it).
# Everything stays on 127.0.0.1; the run is bounded (about a minute) and stops by itself.
set -u
dir=${1:?usage: scripts/truth_run.sh DIR [BUILD_DIR]}
build=${2:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
taskd="$root/$build/bin/taskd" loadgen="$root/$build/bin/loadgen" chaos="$root/$build/bin/chaos"
for b in "$taskd" "$loadgen" "$chaos"; do
    [ -x "$b" ] || { echo "truth_run: $b is missing; build first (make)" >&2; exit 2; }
done
compress=${TRUTH_COMPRESS:-30}
rate=${TRUTH_RATE:-80}
steady=${TRUTH_STEADY:-1s} fault=${TRUTH_FAULT:-5s}
scenarios=${TRUTH_SCENARIOS:-db-deleted volume-mount db-locked}
mkdir -p "$dir" || exit 2
dir=$(cd "$dir" && pwd)
work="$dir/work" data="$dir/work/data"
rm -rf "$work" "$dir/stack"
mkdir -p "$data"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { python3 -c 'import time; print(f"{time.time():.3f}")'; }
port=$(free_port) lgport=$(free_port)
url="http://127.0.0.1:$port"
check=100ms busy=200ms
taskd_args=(--listen "127.0.0.1:$port" --db "$data/tasks.db" --log-file "$dir/taskd.log"
    --check-interval "$check" --busy-timeout "$busy")
: >"$dir/taskd.log"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -s "$dir/taskd.pid" ] && kill "$(cat "$dir/taskd.pid")" 2>/dev/null
    stack/local/stack.sh down --dir "$dir/stack" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# taskd, started and stopped by chaos through these hooks (the start-up faults restart it).
cat >"$dir/start-taskd.sh" <<EOF
#!/bin/sh
"$taskd" ${taskd_args[*]} >>"$dir/taskd.out" 2>&1 &
echo \$! >"$dir/taskd.pid"
EOF
cat >"$dir/stop-taskd.sh" <<EOF
#!/bin/sh
pid=\$(cat "$dir/taskd.pid" 2>/dev/null) || exit 0
kill -TERM "\$pid" 2>/dev/null
for i in \$(seq 100); do kill -0 "\$pid" 2>/dev/null || exit 0; sleep 0.05; done
kill -KILL "\$pid" 2>/dev/null
EOF
chmod +x "$dir/start-taskd.sh" "$dir/stop-taskd.sh"
"$dir/start-taskd.sh"
# Sampled from its start: a scrape before the sampler's first sample has no truth to hold the
# saturation panels to (the validator takes its value as unknown).
python3 scripts/proc_sampler.py --pid-file "$dir/taskd.pid" --port "$port" --data-dir "$data" \
    --out "$dir/proc.jsonl" --interval 0.2 --duration 400 &
pids+=("$!")
for _ in $(seq 100); do curl -fs -o /dev/null "$url/readyz" && break; sleep 0.05; done

stack/local/stack.sh up --dir "$dir/stack" --taskd "127.0.0.1:$port" --loadgen "127.0.0.1:$lgport" \
    --webhook "http://127.0.0.1:$(free_port)/alerts" --compress "$compress" >"$dir/stack.out" 2>&1 ||
    { cat "$dir/stack.out" >&2; exit 1; }
# shellcheck disable=SC1091
. "$dir/stack/stack.env"
lookback=$(python3 stack/local/compress.py --factor "$compress" --min 4s --duration 5m) # as stack.sh sets it
for _ in $(seq 100); do
    curl -s "$PROMETHEUS_URL/api/v1/query" --data-urlencode 'query=up{job="taskd"} == 1' | grep -q '"value"' && break
    sleep 0.1
done

# The window opens after a scrape of the idle taskd, so every series starts from a known value.
sleep 2
from=$(now)
# loadgen runs through the experiments (each about steady + fault + 2 s, with restarts) and a
# tail in which taskd, restarted once more, serves again: alerts resolve, counters reset again.
duration=${TRUTH_DURATION:-36}
"$loadgen" --rate "$rate" --duration "${duration}s" --timeout 2s --json "$dir/loadgen.json" \
    --metrics-listen "127.0.0.1:$lgport" --metrics-linger 3s --quiet "$url" >"$dir/loadgen.out" 2>&1 &
lgpid=$!
pids+=("$lgpid")
sleep 4
# The record needs the faults, not taskd's speed: the steady state may be slow on a busy machine
# (a p99 of 410 ms at a load of 30 aborted db-locked under chaos's 250 ms default).
# shellcheck disable=SC2086 # one word per scenario
"$chaos" run $scenarios --work-dir "$work" --target "$url" --db "$data/tasks.db" \
    --start-cmd "$dir/start-taskd.sh" --stop-cmd "$dir/stop-taskd.sh" --max-p99 2s \
    --steady "$steady" --fault "$fault" --rate 60 --journal "$dir/chaos.json" -q >"$dir/chaos.out" 2>&1
chaos_rc=$?
# chaos stops its target after each experiment, but not after one it aborted: stop what runs,
# then start the taskd that serves the tail.
"$dir/stop-taskd.sh"
"$dir/start-taskd.sh"
wait "$lgpid"
lg_rc=$?
sleep 2
to=$(now)
sleep 2 # one more scrape and evaluation after the window
"$dir/stop-taskd.sh"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
pids=()
stack/local/stack.sh down --dir "$dir/stack" >/dev/null 2>&1

cat >"$dir/run.json" <<EOF
{
  "schema": "taskbench.run/1",
  "description": "taskd under loadgen, chaos: $scenarios (scripts/truth_run.sh, compressed ${compress}x)",
  "window": {"from": $from, "to": $to},
  "prometheus": {"data": "stack/prometheus-data", "scrape_interval": "${SCRAPE_INTERVAL_SECONDS}s",
                 "evaluation_interval": "${EVALUATION_INTERVAL_SECONDS}s", "lookback_delta": "$lookback",
                 "rules": "stack/rules"},
  "services": [{"kind": "taskd", "job": "taskd", "instance": "127.0.0.1:$port", "logs": ["taskd.log"],
                "check_interval": "$check", "busy_timeout": "$busy", "samples": "proc.jsonl"}],
  "loadgen": [{"result": "loadgen.json", "job": "loadgen", "instance": "127.0.0.1:$lgport"}],
  "chaos": ["chaos.json"]
}
EOF
echo "truth_run: chaos exit $chaos_rc, loadgen exit $lg_rc; record $dir/run.json"
[ "$chaos_rc" -eq 0 ] && [ "$lg_rc" -eq 0 ]
