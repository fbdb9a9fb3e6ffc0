#!/usr/bin/env bash
# make bench, loadgen part: how loadgen compares with wrk and hey, side by side in one run.
#
# 1. Closed-loop throughput, each client on CPU 1 with 16 keep-alive connections against nginx
#    on CPU 0 (one worker; `return` answers, fast enough that the client is the bottleneck):
#    wrk on one URL; loadgen --raw on the same URL; loadgen with a 5-target weighted targets
#    file whose URLs, headers and bodies are templates ({{seq}}, {{uuid}}, {{randint}}, a CSV
#    column); loadgen's task mix (nginx plays taskd: POST /tasks answers 201 with an id, the rest
#    200/204, so every route of the mix runs); and hey. Rounds alternate the tools so drift hits
#    all alike; medians are compared: each loadgen figure should reach 0.9x wrk (1.0x is the
#    aim), and --raw 1.5x hey. Without nginx, taskd's /livez is the target and only wrk, --raw
#    and hey run.
# 2. Open model: loadgen --rate 20000 for BENCH_SECONDS after a 1 s warm-up; achieved must be
#    within 1 % of the target and the scheduling lag p99 under 1 ms (read from its JSON result).
# 3. Memory: loadgen at 10,000 requests/s for BENCH_MEMORY_SECONDS (default 300), resident size
#    sampled every 5 s; it must stay under 64 MiB and flat (last sample within 10 % of the first
#    after warm-up).
# Each client's CPU time per request (/usr/bin/time: user + system) is shown next to its rate.
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

for tool in wrk hey taskset python3 /usr/bin/time; do
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
        url="http://127.0.0.1:$port/"
        tap_start_nginx "$scratch/nginx" "$url" taskset -c 0 <<CONF || fail "nginx did not start: $(cat "$scratch/nginx/stderr")"
    keepalive_requests 1000000;
    client_body_buffer_size 64k;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok\n"; }
        # taskd's API, answered by nginx: a create gets 201 and an id, so the mix reaches
        # every route
        location = /tasks {
            if (\$request_method = POST) { return 201 '{"id":\$connection\$connection_requests,"task":"x","done":false}'; }
            return 200 '[]';
        }
        location /tasks/ {
            if (\$request_method = DELETE) { return 204; }
            return 200 '{"id":1,"task":"x","done":false}';
        }
    }
CONF
        nginx_api=1
        target_name="nginx (1 worker, return 200)"
        server_pid=$(pgrep -P "$NGINX_PID" | head -1) # the worker answers
        url="http://127.0.0.1:$port/"
    else
        tap_taskd_cmd=(taskset -c 0)
        tap_start_taskd "$scratch/taskd" || fail "taskd did not start: $(cat "$scratch/taskd/taskd.out")"
        target_name="taskd /livez"
        server_pid=$TASKD_PID
        url="$TASKD_URL/livez"
    fi
    for _ in $(seq 50); do curl -fs -o /dev/null "$url" && return 0; sleep 0.1; done
    fail "the target at $url did not come up"
}

# Each prints requests/s and the client's CPU time per request in microseconds (user + system,
# from /usr/bin/time): on a shared machine the rate moves with the neighbours, the CPU a request
# costs the client much less, so both are shown.
cpu_us() { # CPU_FILE REQUESTS
    awk -v n="$2" '{ printf "%.2f", ($1 + $2) * 1e6 / (n > 0 ? n : 1) }' "$1"
}
# The server's CPU seconds so far (user + system), to see when the server is the bottleneck.
server_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$server_pid/stat"
}
run_wrk() {
    /usr/bin/time -f '%U %S' -o "$scratch/cpu" taskset -c 1 wrk -t1 -c$conns -d"${seconds}s" "$url" \
        >"$scratch/wrk.out" 2>&1 || fail "wrk failed"
    echo "$(awk '/Requests\/sec/ { print $2 }' "$scratch/wrk.out")" \
        "$(cpu_us "$scratch/cpu" "$(awk '/requests in/ { print $1 }' "$scratch/wrk.out")")"
}
run_hey() {
    /usr/bin/time -f '%U %S' -o "$scratch/cpu" taskset -c 1 hey -c $conns -z "${seconds}s" -cpus 1 "$url" \
        >"$scratch/hey.out" 2>&1 || fail "hey failed"
    echo "$(awk '/Requests\/sec/ { print $2 }' "$scratch/hey.out")" \
        "$(cpu_us "$scratch/cpu" "$(awk '/responses/ { n += $2 } END { print n }' "$scratch/hey.out")")"
}
# run_loadgen ARGS...: loadgen closed loop on CPU 1 with ARGS (the workload); prints requests/s
# and refuses a run with failures (nginx answers every request of every workload).
run_loadgen() {
    /usr/bin/time -f '%U %S' -o "$scratch/cpu" taskset -c 1 "$loadgen" -c $conns -t 1 \
        -d "${seconds}s" --json "$scratch/lg.json" --quiet "$@" 2>"$scratch/lg.err" ||
        fail "loadgen $* failed: $(cat "$scratch/lg.err")"
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
if d["totals"]["failed"]:
    sys.exit("loadgen: %d requests failed: %s" % (d["totals"]["failed"], d["totals"]["codes"]))
print(d["rate"]["achieved"], d["totals"]["completed"])' "$scratch/lg.json" >"$scratch/lg.rate" ||
        fail "loadgen $* had failures"
    read -r rate completed <"$scratch/lg.rate"
    echo "$rate $(cpu_us "$scratch/cpu" "$completed")"
}

# A 5-target weighted targets file with templated URLs, headers and bodies, and its CSV rows.
write_targets() {
    python3 - "$scratch" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/users.csv", "w") as f:
    f.write("id,email,name\n")
    for i in range(1000):
        f.write("%d,user%d@example.com,User %d\n" % (i, i, i))
with open(d + "/create.json", "w") as f:
    f.write('{"task":"bench {{seq}} {{uuid}}","owner":"{{data.email}}","done":false}')
with open(d + "/targets.txt", "w") as f:
    f.write("""# @name create
# @weight 20
# @expect 201
POST /tasks
Content-Type: application/json
X-Request-Id: {{uuid}}
@create.json

# @name read
# @weight 50
GET /tasks/{{randint 1 100000}}

# @name update
# @weight 15
PUT /tasks/{{randint 1 100000}}
Content-Type: application/json
@update.json

# @name list
# @weight 10
GET /tasks?limit=100&after={{seq}}

# @name profile
# @weight 5
GET /users/{{data.id}}?name={{data.name | url}}
""")
with open(d + "/update.json", "w") as f:
    f.write('{"task":"updated by {{data.name | json}}","done":true}')
PY
}

nginx_api=0
start_target
base=${url%/}
write_targets
echo "== loadgen vs wrk vs hey: closed loop, $conns connections, one core each, ${seconds}s x $rounds rounds"
echo "   target: $target_name on CPU 0; clients on CPU 1"
echo "   loadgen workloads: raw = --raw on wrk's URL; targets = 5 weighted targets, templated"
echo "   URLs, headers and bodies (tests/bench/loadgen.sh writes them); mix = the task mix"
tools=(wrk raw hey)
[ "$nginx_api" = 1 ] && tools=(wrk raw targets mix hey)
for t in "${tools[@]}"; do : >"$scratch/$t.all" && : >"$scratch/$t.cpu" && : >"$scratch/$t.srv"; done
before=$(server_cpu)
for round in $(seq "$rounds"); do
    line="   round $round:"
    for t in "${tools[@]}"; do
        case $t in
        wrk) v=$(run_wrk) ;;
        hey) v=$(run_hey) ;;
        raw) v=$(run_loadgen --raw "$url") ;;
        targets) v=$(run_loadgen --targets "$scratch/targets.txt" --data "$scratch/users.csv" "$base") ;;
        mix) v=$(run_loadgen "$base") ;;
        esac
        read -r rate cpu <<<"$v"
        echo "$rate" >>"$scratch/$t.all"
        echo "$cpu" >>"$scratch/$t.cpu"
        line+=$(printf '  %s %7.0f (%5.1f us)' "$t" "$rate" "$cpu")
        # the server's CPU per request over the run (rate x seconds requests)
        after=$(server_cpu)
        tap_calc "%.2f\\n" "($after - $before) * 1e6 / ($rate * $seconds + 1)" >>"$scratch/$t.srv"
        before=$after
    done
    echo "$line"
done
verdict() { [ "$(tap_calc %d "$1 >= $2")" = 1 ] && echo PASS || echo BELOW; }
line="   median:" cpu_line="   client CPU per request (user + system), median:"
srv_line="   server CPU per request, median:"
for t in "${tools[@]}"; do
    eval "med_$t=$(median <"$scratch/$t.all")"
    eval "cpu_$t=$(median <"$scratch/$t.cpu")"
    line+=$(printf '  %s %7.0f' "$t" "$(eval echo "\$med_$t")")
    cpu_line+=$(printf '  %s %.1f us' "$t" "$(eval echo "\$cpu_$t")")
    srv_line+=$(printf '  %s %.1f us' "$t" "$(median <"$scratch/$t.srv")")
done
echo "$line req/s"
echo "$cpu_line"
echo "$srv_line"
for t in "${tools[@]}"; do
    case $t in wrk | hey) continue ;; esac
    ratio=$(tap_calc %.2f "$(eval echo "\$med_$t") / $med_wrk")
    cpu_ratio=$(tap_calc %.2f "$cpu_wrk / $(eval echo "\$cpu_$t")")
    printf '   loadgen %-7s / wrk = %s  (target >= 0.9, aim 1.0)  %s;  CPU per request: wrk / loadgen = %s\n' \
        "$t" "$ratio" "$(verdict "$ratio" 0.9)" "$cpu_ratio"
done
vs_hey=$(tap_calc %.2f "$med_raw / $med_hey")
echo "   loadgen raw     / hey = $vs_hey  (target >= 1.5)  $(verdict "$vs_hey" 1.5)"
echo "   (the rates move with whatever else the machine runs; the CPU a request costs the client"
echo "   moves much less: on a busy machine compare those. The targets and the mix send larger"
echo "   requests than wrk's GET, which costs the kernels on both sides and the server more.)"

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
