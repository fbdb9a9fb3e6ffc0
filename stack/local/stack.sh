#!/usr/bin/env bash
# The native stack: Prometheus and Alertmanager from Debian's packages on loopback, with the rules,
# routes and scrape configuration of stack/prometheus and stack/alertmanager, time-compressed by
# compress.py when asked (for tests). Everything lives in one work directory: the generated
# configuration, the data, the logs and the pid files that `down` uses. See README.md here.
#
#   stack/local/stack.sh up [--dir DIR] [--taskd HOST:PORT] [--loadgen HOST:PORT]
#                           [--webhook URL] [--compress F] [--prometheus-port N] [--alertmanager-port N]
#                           [--rules DIR] [--alertmanager-config FILE]
#   stack/local/stack.sh down [--dir DIR]
#   stack/local/stack.sh status [--dir DIR]
#   stack/local/stack.sh generate [the options of up]   (writes and checks the files, starts nothing)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

dir="$root/build/local-stack"
taskd=127.0.0.1:5000
loadgen=""
webhook=http://127.0.0.1:9095/alerts
factor=1
prom_port=""
am_port=""
rules_dir="$root/stack/prometheus/rules"
am_config="$root/stack/alertmanager/alertmanager.yml"

die() {
    echo "stack.sh: $*" >&2
    exit 2
}

usage() {
    sed -n '7,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
while [ $# -gt 0 ]; do
    case "$1" in
    --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
    --taskd) taskd=${2:?--taskd needs HOST:PORT}; shift 2 ;;
    --loadgen) loadgen=${2:?--loadgen needs HOST:PORT}; shift 2 ;;
    --webhook) webhook=${2:?--webhook needs a URL}; shift 2 ;;
    --compress) factor=${2:?--compress needs a factor}; shift 2 ;;
    --prometheus-port) prom_port=${2:?--prometheus-port needs a port}; shift 2 ;;
    --alertmanager-port) am_port=${2:?--alertmanager-port needs a port}; shift 2 ;;
    --rules) rules_dir=${2:?--rules needs a directory of rule files}; shift 2 ;;
    --alertmanager-config) am_config=${2:?--alertmanager-config needs a file}; shift 2 ;;
    -h | --help) usage ;;
    *) die "unknown option '$1'; see stack/local/stack.sh --help" ;;
    esac
done
mkdir -p "$dir" || die "cannot create the work directory $dir"
dir=$(cd "$dir" && pwd)
[ -d "$rules_dir" ] || die "--rules $rules_dir is not a directory"
[ -f "$am_config" ] || die "--alertmanager-config $am_config is not a file"

# A pid file names a running process only if that process still runs the binary we started:
# after a reboot the number may belong to something else, which must not be signalled.
running() {
    local pidfile="$dir/$1.pid" pid exe
    [ -s "$pidfile" ] || return 1
    pid=$(cat "$pidfile")
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    [ "$exe" = "$(cat "$dir/$1.exe" 2>/dev/null)" ]
}

stop_one() {
    local name=$1 pid
    if ! running "$name"; then
        rm -f "$dir/$name.pid" "$dir/$name.exe"
        return 0
    fi
    pid=$(cat "$dir/$name.pid")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do # 10 s for a clean shutdown (the TSDB head is written out)
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "stack.sh: $name (pid $pid) did not stop within 10s of SIGTERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$dir/$name.pid" "$dir/$name.exe"
    echo "stopped $name (pid $pid)"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

find_binary() {
    local b
    for b in "$@"; do
        command -v "$b" 2>/dev/null && return 0
    done
    return 1
}

# Starts $1 (a name) as "$2 args...", detached, logging to DIR/NAME.log. setsid puts it in a
# session of its own, so a Ctrl-C meant for the caller's terminal does not stop it.
launch() {
    local name=$1
    shift
    setsid "$@" </dev/null >"$dir/$name.log" 2>&1 &
    echo $! >"$dir/$name.pid"
    readlink -f "$1" >"$dir/$name.exe"
}

# owns_port NAME PORT: the process in NAME.pid listens on 127.0.0.1:PORT. A port picked as free
# can be taken by another program before the server binds it (other stacks start at the same
# time), and then /-/ready may well answer — from someone else's server.
owns_port() {
    local pid inode hex
    pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
    hex=$(printf '%04X' "$2")
    # /proc/net/tcp: local address 0100007F:PORT, state 0A (LISTEN), then the socket's inode.
    for inode in $(awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {print $10}' /proc/net/tcp); do
        find "/proc/$pid/fd" -lname "socket:\[$inode\]" 2>/dev/null | grep -q . && return 0
    done
    return 1
}

# wait_ready NAME PORT: until NAME answers /-/ready on 127.0.0.1:PORT and owns that port.
wait_ready() {
    local name=$1 port=$2
    for _ in $(seq 1 150); do # 15 s
        if curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$port/-/ready" 2>/dev/null; then
            owns_port "$name" "$port" && return 0
            echo "stack.sh: port $port answers, but not from our $name (taken meanwhile)" >>"$dir/$name.log"
            return 1
        fi
        running "$name" || return 1
        sleep 0.1
    done
    return 1
}

# derive SRC DEST COMPRESS-COMMAND...: DEST is SRC through compress.py, under a line naming both.
derive() {
    local src=$1 dest=$2 body
    shift 2
    body=$("$@" "$src") || return 1
    printf '# Generated from %s by: %s; edits are overwritten.\n%s\n' \
        "${src#"$root"/}" "compress.py --factor $factor" "$body" >"$dest"
}

# Writes DIR/rules/*.yml, DIR/prometheus.yml and DIR/alertmanager.yml for Prometheus on port $1
# and Alertmanager on port $2, and checks them with promtool and amtool when installed.
generate() {
    local pp=$1 ap=$2 f lg_new=""
    [ -n "$loadgen" ] && lg_new="'$loadgen'"
    local c=(python3 "$here/compress.py" --factor "$factor" --min-interval 1s)
    rm -rf "$dir/rules"
    mkdir -p "$dir/rules"
    for f in "$rules_dir"/*.yml; do
        [ -e "$f" ] || { echo "stack.sh: no *.yml rule files in $rules_dir" >&2; return 1; }
        derive "$f" "$dir/rules/$(basename "$f")" "${c[@]}" || return 1
    done
    # Without a loadgen the job keeps an empty target list, as in compose without its profile.
    derive "$root/stack/prometheus/prometheus.yml" "$dir/prometheus.yml" "${c[@]}" \
        --replace "'taskd:5000'='$taskd'" --replace "'loadgen:9102'=$lg_new" \
        --replace "'alertmanager:9093'='127.0.0.1:$ap'" --replace "'localhost:9090'='127.0.0.1:$pp'" ||
        return 1
    # Another Alertmanager configuration keeps its own receivers' URLs.
    local hook=()
    grep -q 'http://webhook:9095/alerts' "$am_config" && hook=(--replace "http://webhook:9095/alerts=$webhook")
    derive "$am_config" "$dir/alertmanager.yml" "${c[@]}" "${hook[@]}" || return 1
    write_timings
    if command -v promtool >/dev/null; then
        promtool check config "$dir/prometheus.yml" >"$dir/promtool.log" 2>&1 ||
            { cat "$dir/promtool.log" >&2; return 1; }
    fi
    if command -v amtool >/dev/null; then
        amtool check-config "$dir/alertmanager.yml" >"$dir/amtool.log" 2>&1 ||
            { cat "$dir/amtool.log" >&2; return 1; }
    fi
}

# DIR/timings.env: the timings in effect, in seconds, for whoever predicts when an alert must
# arrive: the global scrape interval and timeout, the evaluation interval, Prometheus's own
# lookback, resend delay and for-grace period (compressed like the files: lookback never under 4
# scrapes' worth, 4 s), and the root route's grouping (the page route's).
write_timings() {
    local keys=(SCRAPE_INTERVAL_SECONDS SCRAPE_TIMEOUT_SECONDS EVALUATION_INTERVAL_SECONDS
        GROUP_WAIT_SECONDS GROUP_INTERVAL_SECONDS LOOKBACK_SECONDS RESEND_DELAY_SECONDS
        FOR_GRACE_PERIOD_SECONDS) values
    value() { awk -v k="  $1:" 'index($0, k) == 1 {print $2; exit}' "$dir/$2"; }
    # Two calls of compress.py: the values the generated files hold, as seconds; Prometheus's own
    # defaults (5m, 1m, 10m) compressed, with their floors.
    values=$(python3 "$here/compress.py" --factor 1 --seconds --duration \
        "$(value scrape_interval prometheus.yml)" "$(value scrape_timeout prometheus.yml)" \
        "$(value evaluation_interval prometheus.yml)" "$(value group_wait alertmanager.yml)" \
        "$(value group_interval alertmanager.yml)" &&
        python3 "$here/compress.py" --factor "$factor" --seconds --min 4s --duration 5m &&
        python3 "$here/compress.py" --factor "$factor" --seconds --min 1s --duration 1m 10m) ||
        return 1
    paste -d= <(printf '%s\n' COMPRESS "${keys[@]}") <(printf '%s\n%s\n' "$factor" "$values") \
        >"$dir/timings.env"
}

cmd_up() {
    local prom am attempt pp ap lookback resend grace
    prom=$(find_binary prometheus) ||
        die "prometheus is not installed; install it with: apt-get install prometheus"
    am=$(find_binary prometheus-alertmanager alertmanager) ||
        die "alertmanager is not installed; install it with: apt-get install prometheus-alertmanager"
    if running prometheus || running alertmanager; then
        die "a stack is already running in $dir; stop it first: $0 down --dir $dir"
    fi
    python3 "$here/compress.py" --factor "$factor" --duration 1s >/dev/null 2>&1 ||
        die "--compress '$factor' is not a positive number"
    # Prometheus's own timings, compressed like the files (timings.env): how far back an instant
    # query looks, how often a firing alert is re-sent, and the "for" grace period.
    timing_ms() { awk -F= -v k="$1" '$1 == k {printf "%dms", $2 * 1000}' "$dir/timings.env"; }

    for attempt in 1 2 3; do
        pp=${prom_port:-$(free_port)}
        ap=${am_port:-$(free_port)}
        generate "$pp" "$ap" || die "cannot generate the configuration in $dir"
        lookback=$(timing_ms LOOKBACK_SECONDS) resend=$(timing_ms RESEND_DELAY_SECONDS)
        grace=$(timing_ms FOR_GRACE_PERIOD_SECONDS)
        rm -rf "$dir/prometheus-data" "$dir/alertmanager-data"
        mkdir -p "$dir/prometheus-data" "$dir/alertmanager-data"
        launch alertmanager "$am" --config.file="$dir/alertmanager.yml" \
            --storage.path="$dir/alertmanager-data" --web.listen-address="127.0.0.1:$ap" \
            --web.external-url="http://127.0.0.1:$ap/" --cluster.listen-address=
        launch prometheus "$prom" --config.file="$dir/prometheus.yml" \
            --storage.tsdb.path="$dir/prometheus-data" --web.listen-address="127.0.0.1:$pp" \
            --web.external-url="http://127.0.0.1:$pp/" --query.lookback-delta="$lookback" \
            --rules.alert.resend-delay="$resend" --rules.alert.for-grace-period="$grace"
        if wait_ready alertmanager "$ap" && wait_ready prometheus "$pp"; then
            break
        fi
        stop_one prometheus >/dev/null
        stop_one alertmanager >/dev/null
        # A port picked as free can be taken before the server binds it: pick again.
        if [ -z "$prom_port$am_port" ] && [ "$attempt" -lt 3 ] &&
            grep -qsE 'address already in use|taken meanwhile' "$dir/prometheus.log" "$dir/alertmanager.log"; then
            continue
        fi
        echo "stack.sh: the stack did not become ready; the end of its logs:" >&2
        tail -n 5 "$dir/alertmanager.log" "$dir/prometheus.log" >&2
        exit 1
    done
    {
        echo "PROMETHEUS_URL=http://127.0.0.1:$pp"
        echo "ALERTMANAGER_URL=http://127.0.0.1:$ap"
        echo "WEBHOOK_URL=$webhook"
        echo "TASKD_TARGET=$taskd"
        echo "LOADGEN_TARGET=$loadgen"
        cat "$dir/timings.env"
    } >"$dir/stack.env"
    echo "prometheus    http://127.0.0.1:$pp"
    echo "alertmanager  http://127.0.0.1:$ap"
    echo "webhook       $webhook"
    echo "scraping      taskd $taskd${loadgen:+, loadgen $loadgen}"
    echo "time factor   $factor (scrape and evaluation every $(sed -n 's/^SCRAPE_INTERVAL_SECONDS=//p' "$dir/timings.env")s)"
    echo "work dir      $dir (stack.env has these URLs); stop with: $0 down --dir $dir"
}

cmd_down() {
    stop_one prometheus
    stop_one alertmanager
}

cmd_status() {
    local rc=0 name
    for name in prometheus alertmanager; do
        if running "$name"; then
            echo "$name running (pid $(cat "$dir/$name.pid"))"
        else
            echo "$name not running"
            rc=1
        fi
    done
    [ -s "$dir/stack.env" ] && [ "$rc" -eq 0 ] && sed -n '1,3p' "$dir/stack.env"
    return "$rc"
}

cmd_generate() {
    local pp=${prom_port:-9090} ap=${am_port:-9093}
    generate "$pp" "$ap" || die "cannot generate the configuration in $dir"
    echo "wrote $dir/prometheus.yml, $dir/alertmanager.yml, $dir/rules/ and $dir/timings.env (Prometheus on port $pp, Alertmanager on port $ap)"
}

case "$cmd" in
generate) cmd_generate ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*) usage ;;
esac
