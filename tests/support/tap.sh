# shellcheck shell=bash
# What the shell tests (tests/*/test_*.sh) and benches (tests/bench/*.sh) share, sourced, never
# run: TAP lines numbered in one counter (tap_ok, tap_not_ok, tap_check, tap_finish), a skip that
# says why, a scratch directory whose EXIT trap stops every process the script started and
# removes it, a free loopback port, and a taskd on port 0 that is waited for until its port file
# is written. One copy, so every script reports, skips and cleans up the same way.
# Usage: . "$(dirname "$0")/../support/tap.sh" first; sourcing it sets root to the repository's
# root and makes that the working directory, where every script runs (bash 4.4 or later).

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd) && cd "$root" || exit 2

tap_n=0           # TAP lines printed so far
tap_failed=0      # of which "not ok"
tap_work=""       # the scratch directory made by tap_workdir
tap_pids=()       # processes stopped by the EXIT trap: tap_pids+=($!)
tap_exit_hooks=() # functions the EXIT trap runs first (stop a stack, undo a fault)
tap_keep=""       # when set, the scratch directory is kept and "$tap_keep DIR" printed
tap_taskd_cmd=()  # what tap_start_taskd runs taskd under, e.g. (taskset -c 0)

# ---- TAP ------------------------------------------------------------------------------------

tap_ok() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1"
}

# tap_not_ok DESCRIPTION [DETAIL]: the detail's first 40 lines follow as TAP comments.
tap_not_ok() {
    tap_n=$((tap_n + 1))
    tap_failed=$((tap_failed + 1))
    echo "not ok $tap_n - $1"
    if [ -n "${2:-}" ]; then printf '%s\n' "$2" | head -40 | sed 's/^/#   /'; fi
}

# tap_check DESCRIPTION COMMAND...: one TAP line from the command's exit status; its output
# (stdout and stderr, captured: it runs in a subshell) explains a failure.
tap_check() {
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then tap_ok "$desc"; else tap_not_ok "$desc" "$out"; fi
}

# tap_finish: the plan, 1..N, last; returns 1 when any test failed (make it the last command).
tap_finish() {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}

tap_bail() {
    echo "Bail out! $1"
    exit 1
}

# tap_skip REASON: the whole script is skipped (TAP's "1..0 # SKIP REASON", which
# tests/run_suite.sh counts as one skip); exits 0.
tap_skip() {
    echo "1..0 # SKIP $1"
    exit 0
}

# tap_skip_one DESCRIPTION REASON: one test that cannot run here, counted as skipped.
tap_skip_one() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1 # SKIP $2"
}

# tap_skip_under_sanitizer REASON: skips when this run is the sanitizer build's
# (TASKBENCH_SANITIZE set) and the script would check nothing more in it.
tap_skip_under_sanitizer() {
    if [ -n "${TASKBENCH_SANITIZE:-}" ]; then tap_skip "$1"; fi
}

# tap_skip_without COMMAND...: skips unless every command is installed.
tap_skip_without() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || tap_skip "$c is not installed (make deps)"
    done
}

# ---- scratch space and processes ------------------------------------------------------------

# tap_workdir NAME: makes the scratch directory tap_work (taskbench-NAME.XXXXXX under $TMPDIR or
# /tmp) and arms the traps: at exit the tap_exit_hooks run, the tap_pids are stopped and the
# directory is removed (unless tap_keep is set); SIGINT and SIGTERM exit 1 through the same path.
tap_workdir() {
    tap_work=$(mktemp -d "${TMPDIR:-/tmp}/taskbench-$1.XXXXXX") ||
        tap_bail "cannot create a scratch directory under ${TMPDIR:-/tmp}"
    trap tap_cleanup EXIT
    trap 'exit 1' INT TERM
}

# shellcheck disable=SC2317 # run by the EXIT trap
tap_cleanup() {
    local hook pid
    for hook in "${tap_exit_hooks[@]}"; do "$hook"; done
    for pid in "${tap_pids[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ -n "$tap_keep" ]; then
        echo "$tap_keep $tap_work"
    elif [ -n "$tap_work" ]; then
        rm -rf "$tap_work"
    fi
}

# tap_stop PID: stops one process before the end and forgets it (its id may be reused later).
tap_stop() {
    local i
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    for i in "${!tap_pids[@]}"; do
        if [ "${tap_pids[i]}" = "$1" ]; then unset 'tap_pids[i]'; fi
    done
}

# tap_free_port: a TCP port on 127.0.0.1 that nothing listens on (for a program that cannot take
# port 0 and report the one it got).
tap_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# tap_calc FORMAT EXPRESSION: arithmetic on decimals, printed with FORMAT (awk: no bc needed). The
# parentheses keep a comparison such as "a > b" from being read as awk's output redirection.
tap_calc() {
    awk "BEGIN { printf \"$1\", ($2) }"
}

# tap_start_nginx DIR URL [PREFIX...]: starts nginx (one worker, no access log, files under DIR)
# with the http-block directives read from stdin (server blocks and settings), under PREFIX
# (e.g. taskset -c 0) if given, and waits up to 5 s for URL to answer. Sets NGINX_PID (the master,
# also in tap_pids); returns 1 when it does not come up (DIR/stderr and DIR/error.log say why).
tap_start_nginx() {
    local dir=$1 url=$2
    shift 2
    mkdir -p "$dir"
    {
        printf 'worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log;\n' "$dir" "$dir"
        printf 'events { worker_connections 1024; }\nhttp {\n    access_log off;\n'
        for t in client_body proxy fastcgi uwsgi scgi; do printf '    %s_temp_path %s/%s;\n' "$t" "$dir" "$t"; done
        cat
        printf '}\n'
    } >"$dir/nginx.conf"
    "$@" nginx -c "$dir/nginx.conf" -p "$dir" 2>"$dir/stderr" &
    NGINX_PID=$!
    tap_pids+=("$NGINX_PID")
    for _ in $(seq 100); do
        curl -fs -o /dev/null "$url" && return 0
        sleep 0.05
    done
    return 1
}

# tap_wait_port_file FILE PID: waits up to 10 s for a server's port file; returns 1 when the
# process PID exits first or the file stays empty.
tap_wait_port_file() {
    for _ in $(seq 200); do
        [ -s "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    [ -s "$1" ]
}

# tap_start_taskd DIR [TASKD FLAGS...]: starts $TASKD_BIN on 127.0.0.1:0 with DIR/port,
# DIR/tasks.db and DIR/taskd.log (its stdout and stderr go to DIR/taskd.out), under tap_taskd_cmd
# if set, and waits up to 10 s for its port file. Sets TASKD_PID (also in tap_pids), TASKD_PORT
# and TASKD_URL; returns 1 when taskd exits or writes no port in time (DIR/taskd.out says why).
tap_start_taskd() {
    local dir=$1 bin=${TASKD_BIN:?set TASKD_BIN to the taskd binary before tap_start_taskd}
    shift
    TASKD_PORT="" TASKD_URL=""
    mkdir -p "$dir" && rm -f "$dir/port"
    "${tap_taskd_cmd[@]}" "$bin" --listen 127.0.0.1:0 --port-file "$dir/port" \
        --db "$dir/tasks.db" --log-file "$dir/taskd.log" "$@" >"$dir/taskd.out" 2>&1 &
    TASKD_PID=$!
    tap_pids+=("$TASKD_PID")
    tap_wait_port_file "$dir/port" "$TASKD_PID" || return 1
    TASKD_PORT=$(cat "$dir/port")
    # shellcheck disable=SC2034 # for the script that sourced this file
    TASKD_URL="http://127.0.0.1:$TASKD_PORT"
}

# tap_start_prometheus CONFIG DIR: starts Debian's prometheus with CONFIG on 127.0.0.1:0 (its data
# under DIR/prom, its log in DIR/prom.log) and waits up to 10 s until it is ready. Sets PROM_URL
# and PROM_PID (also in tap_pids); returns 1 when it does not come up (DIR/prom.log says why).
tap_start_prometheus() {
    local config=$1 dir=$2 addr
    PROM_URL=""
    prometheus --config.file="$config" --storage.tsdb.path="$dir/prom" \
        --web.listen-address=127.0.0.1:0 --log.level=info 2>"$dir/prom.log" &
    PROM_PID=$!
    tap_pids+=("$PROM_PID")
    for _ in $(seq 200); do
        addr=$(grep -o 'msg="Listening on" address=127.0.0.1:[0-9]*' "$dir/prom.log" | grep -o '127.0.0.1:[0-9]*$')
        if [ -n "$addr" ] && curl -sf "http://$addr/-/ready" >/dev/null 2>&1; then
            PROM_URL="http://$addr"
            return 0
        fi
        kill -0 "$PROM_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
