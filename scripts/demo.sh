#!/usr/bin/env bash
# make demo: taskd end to end in under ten seconds. Starts taskd on a free port with a scratch
# database, runs the blog's curl, then moves the database away while it serves (what a bad
# deploy or a bind mount does) and shows taskd failing closed and recovering by itself, with
# the metrics and log lines an SRE would see. Everything stays on 127.0.0.1 and is cleaned up.
set -eu
build=${1:-build}
taskd="$build/bin/taskd"
work=$(mktemp -d /tmp/taskbench-demo.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; eval "$@"; echo; }

"$taskd" --listen 127.0.0.1:0 --port-file "$work/port" --db "$work/data/tasks.db" \
    --log-file "$work/taskd.log" --check-interval 100ms &
pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")"
db="$work/data/tasks.db"

step "taskd is up at $url (database $db)"
show "curl -s -X POST -H 'Content-Type: application/json' -d '{\"task\": \"Test\"}' $url/tasks"
show "curl -s -X POST -H 'Content-Type: application/json' -d '{\"task\": \"Buy milk\"}' $url/tasks"
show "curl -s -i '$url/tasks?limit=1' | grep -E '^(HTTP|Link)|^\['"

step "fault: the database file is moved away while taskd serves"
show "mv $db $work/tasks.db.away"
sleep 0.3
show "curl -s -w ' -> %{http_code}\n' -X POST -H 'Content-Type: application/json' -d '{\"task\": \"lost?\"}' $url/tasks"
show "curl -s -w ' -> %{http_code}\n' $url/readyz"
show "curl -s $url/metrics | grep -E '^taskd_db_up|^taskd_db_file_state.* 1$'"

step "roll back: the file comes back, taskd recovers by itself"
show "mv $work/tasks.db.away $db"
sleep 0.3
show "curl -s -w ' -> %{http_code}\n' $url/readyz"
show "curl -s -X POST -H 'Content-Type: application/json' -d '{\"task\": \"after recovery\"}' $url/tasks"
show "curl -s $url/tasks"

step "what the SRE sees"
show "curl -s $url/metrics | grep -E '^http_requests_total'"
show "grep -v '\"msg\":\"request\"' $work/taskd.log"
show "grep '\"status\":503' $work/taskd.log | head -1"
