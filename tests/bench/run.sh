#!/usr/bin/env bash
# make bench: how close taskd comes to the HTTP limit of this machine, and whether its reads stay
# as fast as the database grows, measured side by side in one run. Servers are pinned to CPU 0,
# every client to CPU 1. The reference is nginx (one process, no log) answering a fixed JSON body
# the size of a task: what an HTTP server does here when it does nothing else. A libmicrohttpd
# hello-world (mhd_hello) shows what taskd's HTTP library alone costs.
#
# Peak rates come from wrk (1 thread, 16 keep-alive connections, closed loop) in interleaved
# rounds: nginx, hello, taskd GET /tasks/{id} on a database of 1,000 tasks, taskd POST /tasks, and
# taskd GET on a database of BENCH_BIG_TASKS (3,000,000) tasks, built directly with SQLite
# (tests/bench/fill_db.c) before the rounds, outside the measured time. GETs draw ids at random
# over the whole table. Each ratio is taken inside one round, where its two runs are seconds apart,
# and the median over the rounds is shown: drift on a shared or virtual machine cancels out. Every
# taskd runs as in production: its own database file on disk, the JSON log written to a file,
# --sync normal, default flags otherwise. Latency is then taken at half of each peak with an
# open-loop client (paced, or hey with BENCH_PACER=hey), because latency at the peak only measures
# the queue, and for the hello server at the same rate, as this machine's floor. Other processes'
# CPU use and the hypervisor's steal are sampled during every run and shown when they could have
# skewed it.
#
# Exits 1 when any request fails (a non-2xx answer or a socket error), never because a target is
# missed: BELOW is a finding, not a failure. Everything stays on 127.0.0.1 and is cleaned up.
#
# Usage: tests/bench/run.sh BUILD_DIR
# Environment: BENCH_SECONDS (default 10) per run, BENCH_ROUNDS (default 3), BENCH_BIG_TASKS
# (default 3000000), BENCH_PACER paced|hey, BENCH_KEEP=1 keeps the scratch directory (databases,
# logs, raw tool output) and prints its path.
set -u
build=${1:?usage: tests/bench/run.sh BUILD_DIR}
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"

seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
big_tasks=${BENCH_BIG_TASKS:-3000000}
pacer=${BENCH_PACER:-paced}
conns=16
seed_tasks=1000
server_cpu=0
client_cpu=1
target_get=0.80  # GET /tasks/{id} / nginx
target_post=0.50 # POST /tasks / nginx
target_flat=0.90 # GET at big_tasks / GET at seed_tasks
post_body='{"task": "benchmark task: write the weekly report"}'
# What nginx answers: a task as taskd would (same size, same Content-Type).
nginx_body='{"id":500,"task":"seeded task","done":false,"created_at":"2026-12-07T00:00:00.000Z","updated_at":"2026-12-07T00:00:00.000Z"}'
noisy_cpu=0.05  # other processes' CPU use (in CPUs) above which a run is marked noisy
noisy_steal=5.0 # or the hypervisor's steal on the server CPU, in %

taskd="$build/bin/taskd"
hello="$build/bench/mhd_hello"
paced="$build/bench/paced"
fill_db="$build/bench/fill_db"
scripts=tests/bench

fail() {
    printf '\nbench: FAIL: %s\n' "$*" >&2
    exit 1
}

need() {
    command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed ($2)"
}

need wrk "apt-get install -y wrk"
need nginx "apt-get install -y nginx-light"
need taskset "apt-get install -y util-linux"
need curl "apt-get install -y curl"
[ "$pacer" = hey ] && need hey "apt-get install -y hey"
[ "$pacer" = paced ] || [ "$pacer" = hey ] || fail "BENCH_PACER must be paced or hey, not $pacer"
for bin in "$taskd" "$hello" "$paced" "$fill_db"; do
    [ -x "$bin" ] || fail "$bin is missing: run make bench, which builds it"
done
[ "$(nproc --all)" -ge 2 ] || fail "the bench needs 2 CPUs (server on CPU 0, client on CPU 1)"

tap_workdir bench
work=$tap_work
if [ "${BENCH_KEEP:-0}" = 1 ]; then tap_keep="bench: kept"; fi
trap 'exit 130' INT TERM

# ---- servers ---------------------------------------------------------------------------------

# start_server NAME TIMEOUT_S COMMAND...: starts COMMAND pinned to the server CPU; COMMAND must
# write its port to $work/NAME.port within TIMEOUT_S seconds. Sets port and pid.
start_server() {
    local name=$1 timeout=$2
    shift 2
    rm -f "$work/$name.port"
    taskset -c "$server_cpu" "$@" >"$work/$name.out" 2>&1 &
    pid=$!
    tap_pids+=("$pid") # stopped by the EXIT trap
    for _ in $(seq $((timeout * 20))); do
        [ -s "$work/$name.port" ] && break
        kill -0 "$pid" 2>/dev/null || fail "$name exited at start: $(cat "$work/$name.out")"
        sleep 0.05
    done
    [ -s "$work/$name.port" ] || fail "$name did not write its port within $timeout s"
    port=$(cat "$work/$name.port")
}

# start_taskd NAME [taskd flags...]: taskd with its real configuration: its own database file on
# disk ($work/NAME.db), the JSON log written to a file, synchronous=NORMAL. Sets port, pid,
# version and settings (what its listening line says about threads and memory).
start_taskd() {
    local name=$1
    shift
    start_server "$name" 60 "$taskd" --listen 127.0.0.1:0 --port-file "$work/$name.port" \
        --db "$work/$name.db" --log-file "$work/$name.log" --sync normal "$@"
    local line=""
    for _ in $(seq 50); do
        line=$(grep '"msg":"listening"' "$work/$name.log" 2>/dev/null | tail -n 1)
        [ -n "$line" ] && break
        sleep 0.05
    done
    [ -n "$line" ] || fail "$name: no \"listening\" line in its log"
    version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' <<<"$line")
    settings=$(sed -n 's/.*"threads":\([0-9]*\).*"cache_size_bytes":\([0-9]*\).*"mmap_size_bytes":\([0-9]*\).*/--threads \1, page cache \2 bytes per connection, reads map \3 bytes/p' <<<"$line")
}

# start_nginx: nginx, one process, answering $nginx_body to every request. Sets port and pid.
start_nginx() {
    mkdir -p "$work/nginx"
    local nginx_port
    nginx_port=$(tap_free_port)
    # One process (no master): its CPU is then the server's, not counted as another process's.
    cat >"$work/nginx/nginx.conf" <<CONF
master_process off;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nginx_port;
        location / { default_type application/json; return 200 '$nginx_body'; }
    }
}
CONF
    taskset -c "$server_cpu" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" \
        >"$work/nginx.out" 2>&1 &
    pid=$!
    tap_pids+=("$pid")
    port=$nginx_port
    for _ in $(seq 100); do
        curl -fs -o /dev/null "http://127.0.0.1:$port/" && return 0
        kill -0 "$pid" 2>/dev/null || fail "nginx exited at start: $(cat "$work/nginx.out")"
        sleep 0.05
    done
    fail "nginx did not answer on port $port within 5 s"
}

# ---- other processes' CPU use ----------------------------------------------------------------

# Prints "pid jiffies name" for every user-space process (kernel threads are left out: the
# loopback traffic's own softirq work is part of the measurement).
cpu_snapshot() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk '{
        if (!match($0, /\(.*\)/)) next
        name = substr($0, RSTART + 1, RLENGTH - 2)
        gsub(/[ \t]/, "_", name)
        split(substr($0, RSTART + RLENGTH + 1), f, " ")
        if (int(f[7] / 2097152) % 2 == 1) next # PF_KTHREAD
        print $1, f[12] + f[13], name
    }'
}

# foreign_load BEFORE AFTER SECONDS "PIDS": CPUs other processes used between the two snapshots,
# with the three biggest users, e.g. "0.62 CPU (cc1 0.41, node 0.21)".
foreign_load() {
    awk -v secs="$3" -v hz="$(getconf CLK_TCK)" -v ours="$4" '
        BEGIN { n = split(ours, o, " "); for (k = 1; k <= n; k++) mine[o[k]] = 1 }
        FNR == NR { before[$1] = $2; next }
        !($1 in mine) {
            d = $2 - (($1 in before) ? before[$1] : 0)
            if (d > 0) { by[$3] += d; total += d }
        }
        END {
            printf "%.2f CPU", total / hz / secs
            sep = " ("
            for (k = 0; k < 3; k++) {
                best = ""
                for (name in by) if (best == "" || by[name] > by[best]) best = name
                if (best == "" || by[best] / hz / secs < 0.01) break
                printf "%s%s %.2f", sep, best, by[best] / hz / secs
                sep = ", "
                delete by[best]
            }
            print (sep == ", " ? ")" : "")""
        }' "$1" "$2"
}

# steal_jiffies: time the hypervisor gave the server CPU to someone else (/proc/stat "steal").
steal_jiffies() {
    awk -v cpu="cpu$server_cpu" '$1 == cpu { print $9 }' /proc/stat
}

# measure OUTFILE COMMAND...: runs a client pinned to the client CPU, output to OUTFILE. Sets rc,
# load (other processes' CPU use meanwhile, as printed by foreign_load) and steal (% of the server
# CPU taken by the hypervisor).
measure() {
    local out=$1
    shift
    cpu_snapshot >"$work/cpu.before"
    local t0 t1 steal0 secs
    steal0=$(steal_jiffies)
    t0=$(date +%s.%N)
    taskset -c "$client_cpu" "$@" >"$out" 2>&1 &
    local client=$!
    wait "$client"
    rc=$?
    t1=$(date +%s.%N)
    cpu_snapshot >"$work/cpu.after"
    secs=$(tap_calc "%.3f" "$t1 - $t0")
    steal=$(tap_calc "%.1f" "($(steal_jiffies) - $steal0) * 100 / $(getconf CLK_TCK) / $secs")
    load=$(foreign_load "$work/cpu.before" "$work/cpu.after" "$secs" "${tap_pids[*]} $client $$")
}

# noise: "" for a clean run, else what disturbed it (other processes, hypervisor steal).
noise() {
    if [ "$(tap_calc "%d" "${load%% *} > $noisy_cpu || $steal > $noisy_steal")" = 1 ]; then
        echo "NOISY: other processes ${load}, steal ${steal}%"
    fi
}

# ---- wrk -------------------------------------------------------------------------------------

# wrk_run LABEL DURATION URL [SCRIPT [SCRIPT_ARGS...]]: a closed-loop peak run. Fails the bench on
# any failed request. Sets rps.
wrk_run() {
    local label=$1 duration=$2 url=$3
    shift 3
    local out="$work/wrk-${label//[^A-Za-z0-9]/_}-round${round:-0}.txt"
    local args=(-t1 -c"$conns" -d"$duration" --latency)
    if [ $# -gt 0 ]; then
        args+=(-s "$1" "$url")
        shift
        [ $# -gt 0 ] && args+=(-- "$@")
    else
        args+=("$url")
    fi
    measure "$out" wrk "${args[@]}"
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    local non2xx errors
    non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$out")
    errors=$(grep 'Socket errors' "$out")
    if [ "$rc" -ne 0 ] || [ -z "$rps" ]; then
        fail "$label: wrk failed (exit $rc): $(cat "$out")"
    fi
    [ -z "$non2xx" ] || fail "$label: $non2xx responses were not 2xx; wrk said:
$(cat "$out")"
    [ -z "$errors" ] || fail "$label: wrk saw socket errors: $errors"
}

# ---- latency at a fixed rate -----------------------------------------------------------------

# paced_run LABEL PORT RATE METHOD PATH [BODY]: open-loop run at RATE. Sets lat (a printable line).
paced_run() {
    local label=$1 port=$2 rate=$3 method=$4 path=$5 body=${6:-}
    local out="$work/paced-${label//[^A-Za-z0-9]/_}.txt"
    local args=(-a "127.0.0.1:$port" -r "$rate" -d "$seconds" -c "$conns" -m "$method" -p "$path"
        -i "$seed_tasks")
    [ -n "$body" ] && args+=(-b "$body" -T application/json)
    measure "$out" "$paced" "${args[@]}"
    local result
    result=$(grep '^paced-result' "$out")
    [ -n "$result" ] || fail "$label: paced failed (exit $rc): $(cat "$out")"
    [ "$rc" -eq 0 ] || fail "$label: requests failed at $rate/s:
$(cat "$out")"
    local achieved
    achieved=$(result_field "$result" achieved)
    lat=$(printf '%-16s %6s/s (achieved %6.0f)  p50 %6.0f us  p99 %6.0f us  [service p50 %.0f, p99 %.0f us; send lag p99 %.0f us; unsent %s]' \
        "$label" "$rate" "$achieved" "$(result_field "$result" p50_us)" \
        "$(result_field "$result" p99_us)" "$(result_field "$result" service_p50_us)" \
        "$(result_field "$result" service_p99_us)" "$(result_field "$result" lag_p99_us)" \
        "$(result_field "$result" unsent)")
    if short_of_rate "$achieved" "$rate"; then lat+="  SHORT OF RATE"; fi
    if [ -n "$(noise)" ]; then lat+="  $(noise)"; fi
}

# hey_run LABEL PORT RATE METHOD PATH [BODY]: the same with hey (-q is per worker; one URL only,
# so GET reads one task; latency in steps of 0.1 ms, from the send; closed loop per worker).
hey_run() {
    local label=$1 port=$2 rate=$3 method=$4 path=${5//\{id\}/$((seed_tasks / 2))} body=${6:-}
    local out="$work/hey-${label//[^A-Za-z0-9]/_}.txt"
    local per_worker args=(-z "${seconds}s" -c "$conns" -m "$method")
    per_worker=$(tap_calc "%.3f" "$rate / $conns")
    args+=(-q "$per_worker")
    [ -n "$body" ] && args+=(-T application/json -d "$body")
    measure "$out" hey "${args[@]}" "http://127.0.0.1:$port$path"
    [ "$rc" -eq 0 ] || fail "$label: hey failed (exit $rc): $(cat "$out")"
    local bad
    bad=$(awk '/^Status code distribution:/ { on = 1; next } on && /\[[0-9]+\]/ && !/\[2[0-9][0-9]\]/' "$out")
    [ -z "$bad" ] || fail "$label: hey saw non-2xx responses: $bad"
    if grep -q '^Error distribution:' "$out"; then
        fail "$label: hey saw errors: $(sed -n '/^Error distribution:/,$p' "$out")"
    fi
    local achieved p50 p99
    achieved=$(awk '/Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    p50=$(awk '/ 50% in / { printf "%.0f", $3 * 1e6 }' "$out")
    p99=$(awk '/ 99% in / { printf "%.0f", $3 * 1e6 }' "$out")
    lat=$(printf '%-16s %6s/s (achieved %6s)  p50 %6s us  p99 %6s us  [hey: 0.1 ms steps, from the send]' \
        "$label" "$rate" "$achieved" "$p50" "$p99")
    if short_of_rate "$achieved" "$rate"; then lat+="  SHORT OF RATE"; fi
    if [ -n "$(noise)" ]; then lat+="  $(noise)"; fi
}

# short_of_rate ACHIEVED RATE: true when under 95 % of the rate asked for.
short_of_rate() {
    [ "$(tap_calc "%d" "$1 < 0.95 * $2")" = 1 ]
}

# result_field LINE NAME: the value of NAME=value in a paced-result line.
result_field() {
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

latency_run() {
    if [ "$pacer" = hey ]; then hey_run "$@"; else paced_run "$@"; fi
}

# ---- checks on taskd -------------------------------------------------------------------------

# seed PORT: POSTs $seed_tasks tasks into a fresh database, so ids 1..N exist.
seed() {
    local port=$1 out="$work/seed-$1.txt" code
    taskset -c "$client_cpu" "$paced" -a "127.0.0.1:$port" -r 5000 \
        -d "$(tap_calc "%.3f" "$seed_tasks / 5000")" -c 4 -m POST -p /tasks \
        -b '{"task": "seeded task"}' >"$out" 2>&1 || fail "seeding $seed_tasks tasks failed: $(cat "$out")"
    for id in 1 "$seed_tasks"; do
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/tasks/$id")
        [ "$code" = 200 ] || fail "after seeding, GET /tasks/$id answered $code, not 200"
    done
}

# build_big NAME TASKS: a taskd database of TASKS tasks at $work/NAME.db: taskd creates it (so
# the schema is its own), then fill_db adds the rows with SQLite directly. Prints how long it took.
build_big() {
    local name=$1 tasks=$2 t0 code
    t0=$(date +%s.%N)
    start_taskd "$name"
    tap_stop "$pid"
    "$fill_db" "$work/$name.db" "$tasks" || fail "fill_db could not build the $tasks-task database"
    printf 'built a database of %s tasks with SQLite in %.1f s (%s MB), outside the measured time\n' \
        "$tasks" "$(tap_calc "%.3f" "$(date +%s.%N) - $t0")" \
        "$(($(stat -c %s "$work/$name.db") / 1000000))"
}

# check_metrics PORT: every answer taskd counted must have been 2xx (a witness next to wrk's),
# except 499: requests still in flight when wrk stops and closes its connections.
check_metrics() {
    local metrics bad
    metrics=$(curl -s "http://127.0.0.1:$1/metrics")
    bad=$(awk '/^http_requests_total\{/ && !/code="(2[0-9][0-9]|499)"/ && $NF > 0' <<<"$metrics")
    [ -z "$bad" ] || fail "taskd counted non-2xx answers during the bench:
$bad"
    cut_short=$((cut_short + $(awk '/^http_requests_total\{/ && /code="499"/ { n += $NF } END { print n + 0 }' <<<"$metrics")))
}
cut_short=0

# ---- peak rates over rounds ------------------------------------------------------------------

declare -A peaks peak_noise

# peak KEY LABEL PORT [SCRIPT [SCRIPT_ARGS...]]: one wrk run, its rate added to peaks[KEY] (one
# entry per round, in order).
peak() {
    local key=$1 label=$2 port=$3
    shift 3
    wrk_run "$label" "${seconds}s" "http://127.0.0.1:$port/" "$@"
    peaks[$key]+="$rps "
    local n
    n=$(noise)
    if [ -n "$n" ]; then peak_noise[$key]="$n"; fi
    printf '  %-36s %8s req/s   (other processes %s, steal %s%%)\n' "$label" "$rps" "$load" "$steal"
}

median_of() {
    tr ' ' '\n' <<<"$1" | grep . | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
median() { printf '%.0f' "$(median_of "${peaks[$1]}")"; }
spread() {
    tr ' ' '\n' <<<"${peaks[$1]}" | grep . | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'
}

# ratio KEY REF: the median over rounds of KEY's rate divided by REF's in the same round.
ratio() {
    local -a a b
    read -r -a a <<<"${peaks[$1]}"
    read -r -a b <<<"${peaks[$2]}"
    local i list=""
    for i in "${!a[@]}"; do list+="$(tap_calc "%.4f" "${a[i]} / ${b[i]}") "; done
    printf '%.2f' "$(median_of "$list")"
}

# ---- the runs --------------------------------------------------------------------------------

fs=$(df --output=fstype "$work" | tail -n 1)
printf 'taskbench bench: servers on CPU %s, clients on CPU %s; wrk -t1 -c%s -d%ss, %s rounds; %s CPUs, Linux %s; databases and logs on %s\n' \
    "$server_cpu" "$client_cpu" "$conns" "$seconds" "$rounds" "$(nproc --all)" "$(uname -r)" "$fs"
printf 'load average at start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

build_big big "$big_tasks"
start_nginx
nginx_port=$port
start_server hello 5 "$hello" 0 "$work/hello.port"
hello_port=$port
start_taskd get1k
get1k_port=$port
seed "$get1k_port"
start_taskd post
post_port=$port
big_t0=$(date +%s.%N)
start_taskd big
big_port=$port
printf 'taskd %s (%s) opened the %s-task database in %.1f s\n' "$version" "$settings" \
    "$big_tasks" "$(tap_calc "%.3f" "$(date +%s.%N) - $big_t0")"

get_lua="$scripts/get_task.lua"
post_lua="$scripts/post_task.lua"
# The large database gets longer: its reader maps the file once it has stood unchanged for a
# second, and each page of the map is faulted in by its first read.
echo "warm-up: 2 s of each (10 s for the large database), not counted"
for p in "$nginx_port" "$hello_port"; do wrk_run warm-up 2s "http://127.0.0.1:$p/"; done
wrk_run warm-up 2s "http://127.0.0.1:$get1k_port/" "$get_lua" "$seed_tasks"
wrk_run warm-up 2s "http://127.0.0.1:$post_port/" "$post_lua"
wrk_run warm-up 10s "http://127.0.0.1:$big_port/" "$get_lua" "$big_tasks"

for round in $(seq "$rounds"); do
    echo "peak rates, round $round (wrk, closed loop):"
    peak nginx "nginx (1 process, fixed body)" "$nginx_port"
    peak hello "libmicrohttpd hello (mhd_hello)" "$hello_port"
    peak get1k "GET /tasks/{id}, $seed_tasks tasks" "$get1k_port" "$get_lua" "$seed_tasks"
    peak post "POST /tasks" "$post_port" "$post_lua"
    peak big "GET /tasks/{id}, $big_tasks tasks" "$big_port" "$get_lua" "$big_tasks"
done

get_rps=$(median get1k)
post_rps=$(median post)
echo "latency at half the median peak ($pacer, open loop):"
latency_run "GET /tasks/{id}" "$get1k_port" $((get_rps / 2)) GET '/tasks/{id}'
get_lat=$lat
echo "  $get_lat"
latency_run "POST /tasks" "$post_port" $((post_rps / 2)) POST /tasks "$post_body"
post_lat=$lat
echo "  $post_lat"
latency_run "hello GET /" "$hello_port" $((get_rps / 2)) GET /
hello_lat=$lat
echo "  $hello_lat"
for p in "$get1k_port" "$post_port" "$big_port"; do check_metrics "$p"; done

# ---- the table -------------------------------------------------------------------------------

# row NAME KEY REF [TARGET]: KEY's median rate and its ratio to REF (median of per-round ratios).
row() {
    local vs result=- target=-
    vs=$(ratio "$2" "$3")
    if [ -n "${4:-}" ]; then
        target=">= $4"
        if [ "$(tap_calc "%d" "$vs >= $4")" = 1 ]; then result=PASS; else result=BELOW; fi
    fi
    printf '%-36s %7s %13s %9s %9s %6s  %s\n' "$1" "$(median "$2")" "$(spread "$2")" "$vs" \
        "$target" "$result" "${peak_noise[$2]:-}"
}

echo
printf '%-36s %7s %13s %9s %9s %6s\n' "name (median of $rounds rounds)" "req/s" "range" \
    "vs nginx" "target" "result"
row "nginx (1 process, fixed body)" nginx nginx
row "libmicrohttpd hello (mhd_hello)" hello nginx
row "GET /tasks/{id}, $seed_tasks tasks" get1k nginx "$target_get"
row "POST /tasks" post nginx "$target_post"
row "GET /tasks/{id}, $big_tasks tasks" big nginx
printf '%-36s %7s %13s %9s %9s %6s\n' "" "" "" "vs 1k GET" "" ""
row "GET at $big_tasks vs $seed_tasks tasks" big get1k "$target_flat"
echo
echo "latency at half the median peak ($pacer, $conns connections, ${seconds} s; hello at the GET rate):"
echo "  $get_lat"
echo "  $post_lat"
echo "  $hello_lat"
echo "  (taskd answered every request 2xx; $cut_short were cut short by a client closing at the end of a run, 499)"
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
