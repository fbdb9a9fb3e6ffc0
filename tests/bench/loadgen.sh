#!/usr/bin/env bash
# make bench, loadgen part: how loadgen compares with wrk and hey, side by side in one run.
#
# 1. Closed-loop throughput: loadgen --raw, wrk and hey, each on CPU 1 with 16 keep-alive
#    connections, against one target on CPU 0 (nginx `return 200` when installed — fast enough
#    that the client is the bottleneck — else taskd's /livez). Rounds alternate the tools so
#    drift hits all alike; medians are compared: loadgen must reach 0.9x wrk and 1.5x hey.
# 2. Open model: loadgen --rate 20000 for BENCH_SECONDS after a 1 s warm-up; achieved must be
#    within 1 % of the target and the scheduling lag p99 under 1 ms (read from its JSON result).
# 3. Memory: loadgen at 10,000 requests/s for BENCH_MEMORY_SECONDS (default 300), resident size
#    sampled every 5 s; it must stay under 64 MiB and flat (last sample within 10 % of the first
#    after warm-up).
# Prints PASS/BELOW per target; exits 1 only when a tool fails to run, never for a missed target.
#
# Usage: tests/bench/loadgen.sh BUILD_DIR
# Environment: BENCH_SECONDS (default 10), BENCH_ROUNDS (default 3), BENCH_MEMORY_SECONDS (300;
# 0 skips), BENCH_TARGET=nginx|taskd, BENCH_KEEP=1 keeps the scratch directory.
set -u
build=${1:?usage: tests/bench/loadgen.sh BUILD_DIR}
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
memory_seconds=${BENCH_MEMORY_SECONDS:-300}
conns=16
loadgen="$root/$build/bin/loadgen"
TASKD_BIN="$root/$build/bin/taskd"

fail() {
    printf '\nbench: FAIL: %s\n' "$*" >&2
    exit 1
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for tool in wrk hey taskset python3; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (make deps)"
done
[ -x "$loadgen" ] || fail "$loadgen is missing (make)"

tap_workdir lgbench
scratch=$tap_work
if [ "${BENCH_KEEP:-0}" = 1 ]; then tap_keep="bench: kept"; fi

start_target() {
    local want=${BENCH_TARGET:-}
    if [ "$want" != taskd ] && command -v nginx >/dev/null 2>&1; then
        local port
        port=$(tap_free_port)
        mkdir -p "$scratch/nginx"
        cat >"$scratch/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $scratch/nginx/nginx.pid;
error_log $scratch/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok\n"; }
    }
}
CONF
        taskset -c 0 nginx -c "$scratch/nginx/nginx.conf" -p "$scratch/nginx" 2>"$scratch/nginx/stderr" &
        tap_pids+=("$!")
        target_name="nginx (1 worker, return 200)"
        url="http://127.0.0.1:$port/"
    else
        tap_taskd_cmd=(taskset -c 0)
        tap_start_taskd "$scratch/taskd" || fail "taskd did not start: $(cat "$scratch/taskd/taskd.out")"
        target_name="taskd /livez"
        url="$TASKD_URL/livez"
    fi
    for _ in $(seq 50); do curl -fs -o /dev/null "$url" && return 0; sleep 0.1; done
    fail "the target at $url did not come up"
}

# Each prints requests/s.
run_wrk() {
    taskset -c 1 wrk -t1 -c$conns -d"${seconds}s" "$url" >"$scratch/wrk.out" 2>&1 || fail "wrk failed"
    awk '/Requests\/sec/ { print $2 }' "$scratch/wrk.out"
}
run_hey() {
    taskset -c 1 hey -c $conns -z "${seconds}s" -cpus 1 "$url" >"$scratch/hey.out" 2>&1 || fail "hey failed"
    awk '/Requests\/sec/ { print $2 }' "$scratch/hey.out"
}
run_loadgen() {
    taskset -c 1 "$loadgen" --raw -c $conns -t 1 -d "${seconds}s" --json "$scratch/lg.json" \
        --quiet "$url" 2>"$scratch/lg.err" || fail "loadgen failed: $(cat "$scratch/lg.err")"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["rate"]["achieved"])' \
        "$scratch/lg.json"
}

start_target
echo "== loadgen vs wrk vs hey: closed loop, $conns connections, one core each, ${seconds}s x $rounds rounds"
echo "   target: $target_name on CPU 0; clients on CPU 1"
: >"$scratch/wrk.all"
: >"$scratch/hey.all"
: >"$scratch/lg.all"
for round in $(seq "$rounds"); do
    w=$(run_wrk)
    l=$(run_loadgen)
    h=$(run_hey)
    echo "$w" >>"$scratch/wrk.all"
    echo "$l" >>"$scratch/lg.all"
    echo "$h" >>"$scratch/hey.all"
    printf '   round %d: wrk %8.0f  loadgen %8.0f  hey %8.0f req/s\n' "$round" "$w" "$l" "$h"
done
wrk_med=$(median <"$scratch/wrk.all")
lg_med=$(median <"$scratch/lg.all")
hey_med=$(median <"$scratch/hey.all")
vs_wrk=$(tap_calc %.2f "$lg_med / $wrk_med")
vs_hey=$(tap_calc %.2f "$lg_med / $hey_med")
printf '   median:  wrk %8.0f  loadgen %8.0f  hey %8.0f req/s\n' "$wrk_med" "$lg_med" "$hey_med"
verdict() { [ "$(tap_calc %d "$1 >= $2")" = 1 ] && echo PASS || echo BELOW; }
echo "   loadgen / wrk = $vs_wrk  (target >= 0.9)  $(verdict "$vs_wrk" 0.9)"
echo "   loadgen / hey = $vs_hey  (target >= 1.5)  $(verdict "$vs_hey" 1.5)"

echo
echo "== open model: --rate 20000 for ${seconds}s after a 1 s warm-up (as wrk2 does), one thread on CPU 1"
# The hypervisor's steal time on CPU 1 during the run is shown: stolen time delays arrivals.
steal_before=$(awk '/^cpu1 / { print $9 }' /proc/stat)
taskset -c 1 "$loadgen" --raw --rate 20000 -t 1 --warmup 1s -d "${seconds}s" \
    --json "$scratch/open.json" --quiet "$url" 2>"$scratch/open.err" ||
    fail "loadgen --rate failed: $(cat "$scratch/open.err")"
steal_after=$(awk '/^cpu1 / { print $9 }' /proc/stat)
python3 - "$scratch/open.json" "$((steal_after - steal_before))" "$(getconf CLK_TCK)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
steal_s = int(sys.argv[2]) / int(sys.argv[3])
print(f"   hypervisor steal on CPU 1 during the run: {steal_s:.2f} s ({100 * steal_s / (d['duration_seconds'] + 1):.1f} %)")
target, achieved = d["rate"]["target"], d["rate"]["achieved"]
ratio = achieved / target
lag = d["latency"]["lag"]
ok_rate = abs(ratio - 1) <= 0.01
ok_lag = lag["p99"] < 0.001
print(f"   achieved {achieved:,.1f} of {target:,.0f} req/s ({ratio:.4f})  {'PASS' if ok_rate else 'BELOW'} (within 1%)")
print(f"   not started {d['totals']['not_started']}, errors {d['totals']['error_ratio']:.4%}")
print(f"   scheduling lag p50 {lag['p50']*1e6:.0f} us, p99 {lag['p99']*1e6:.0f} us, max {lag['max']*1e6:.0f} us  {'PASS' if ok_lag else 'BELOW'} (p99 < 1 ms)")
c = d["latency"]["corrected"]
print(f"   corrected latency p50 {c['p50']*1e6:.0f} us, p99 {c['p99']*1e6:.0f} us")
PY

if [ "$memory_seconds" -gt 0 ]; then
    echo
    echo "== memory: --rate 10000 for ${memory_seconds}s, resident size every 5 s"
    taskset -c 1 "$loadgen" --raw --rate 10000 -t 1 -d "${memory_seconds}s" --json "$scratch/mem.json" \
        --quiet "$url" 2>"$scratch/mem.err" &
    lg=$!
    tap_pids+=("$lg")
    : >"$scratch/rss"
    while kill -0 "$lg" 2>/dev/null; do
        awk '/VmRSS/ { print $2 }' "/proc/$lg/status" 2>/dev/null >>"$scratch/rss"
        sleep 5
    done
    wait "$lg" || fail "loadgen (memory run) failed: $(cat "$scratch/mem.err")"
    python3 - "$scratch/rss" "$scratch/mem.json" <<'PY'
import json, sys
rss = [int(x) for x in open(sys.argv[1]) if x.strip()]
d = json.load(open(sys.argv[2]))
settled = rss[2:] if len(rss) > 4 else rss
first, last, peak = settled[0], settled[-1], max(rss)
print(f"   samples {len(rss)}: first {rss[0]/1024:.1f} MiB, after warm-up {first/1024:.1f} MiB, last {last/1024:.1f} MiB, peak {peak/1024:.1f} MiB")
print(f"   completed {d['totals']['completed']:,} at {d['rate']['achieved']:,.1f} req/s")
flat = last <= first * 1.10
print(f"   peak under 64 MiB: {'PASS' if peak < 64*1024 else 'BELOW'};  flat (last within 10% of first): {'PASS' if flat else 'BELOW'}")
PY
fi
