#!/usr/bin/env bash
# The blog's Flask app (examples/flask-tasks) on loopback, as the bench uses it: its API answers
# as the blog's did (201 {"message":"Task added"} with no id, GET /tasks lists every row), /health
# never looks at the database, /metrics counts errors only on the blog's 4xx paths; loadgen's task
# mix loads it and `loadgen audit --api blog` finds nothing lost after a healthy run, then exactly
# the rows deleted behind the app's back, through the whole list and through cursor paging; and
# the two faults issue 12 shows on it behave as the blog's app did: a database path that is a
# directory kills it at start, a database deleted while it serves fails every request with 500
# while /health stays 200.
# Usage: tests/examples/test_flask.sh BUILD_DIR (from the repository root). Prints TAP.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:?usage: tests/examples/test_flask.sh BUILD_DIR}
loadgen="$build/bin/loadgen"
app=examples/flask-tasks/app.py
# Debian's python3 with python3-flask, not whatever python3 comes first on PATH.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
"$py" -c 'import flask' 2>/dev/null || tap_skip "python3-flask is not installed for $py (make deps)"
tap_skip_without sqlite3 curl

tap_workdir flask
if [ -n "${KEEP:-}" ]; then tap_keep="# kept"; fi
work=$tap_work

# start_app DIR [FLAGS]: the app on a free port with DIR/tasks.db; sets APP_PID and APP_URL.
start_app() {
    local dir=$1
    shift
    mkdir -p "$dir" && rm -f "$dir/port"
    "$py" "$app" --listen 127.0.0.1:0 --port-file "$dir/port" --db "$dir/tasks.db" \
        --log-file "$dir/app.log" "$@" >"$dir/app.out" 2>&1 &
    APP_PID=$!
    tap_pids+=("$APP_PID")
    tap_wait_port_file "$dir/port" "$APP_PID" || return 1
    APP_URL="http://127.0.0.1:$(cat "$dir/port")"
}

# req METHOD PATH [JSON]: "STATUS BODY" of one request.
req() {
    local args=(-s -o "$work/body" -w '%{http_code}' -X "$1" "$APP_URL$2")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
    local status
    status=$(curl "${args[@]}")
    echo "$status $(cat "$work/body")"
}

expect_eq() { # DESCRIPTION GOT WANT
    if [ "$2" = "$3" ]; then tap_ok "$1"; else tap_not_ok "$1" "got:  $2"$'\n'"want: $3"; fi
}

metric() { # NAME{LABELS} -> value
    curl -s "$APP_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# ---- the blog's API ---------------------------------------------------------------------------
start_app "$work/api" || tap_bail "the app did not start: $(cat "$work/api/app.out")"
expect_eq "POST /tasks answers as the blog's app: 201 and a message, no id" \
    "$(req POST /tasks '{"task": "Test"}')" '201 {"message":"Task added"}'
expect_eq "a POST without a task is 400" "$(req POST /tasks '{}')" '400 {"error":"No task provided"}'
expect_eq "GET /tasks lists every row" "$(req GET /tasks)" '200 [{"done":false,"id":1,"task":"Test"}]'
expect_eq "PUT /tasks/1 updates" "$(req PUT /tasks/1 '{"task":"T2","done":true}')" \
    '200 {"message":"Task updated"}'
expect_eq "PUT on a missing task is 404" "$(req PUT /tasks/9 '{"task":"x"}')" \
    '404 {"error":"Task not found"}'
expect_eq "a cursor page when asked for one" "$(req GET '/tasks?limit=1')" \
    '200 {"next_cursor":null,"tasks":[{"done":true,"id":1,"task":"T2"}]}'
expect_eq "DELETE /tasks/1 deletes" "$(req DELETE /tasks/1)" '200 {"message":"Task deleted"}'
expect_eq "DELETE again is 404" "$(req DELETE /tasks/1)" '404 {"error":"Task not found"}'
expect_eq "there is no GET /tasks/1, as in the blog (405: the path takes PUT and DELETE)" \
    "$(req GET /tasks/1 | head -c3)" "405"
expect_eq "/health is 200" "$(req GET /health)" '200 {"status":"ok"}'
expect_eq "error_count_total counts the 4xx paths (POST 400)" \
    "$(metric 'error_count_total{endpoint="/tasks",method="POST"}')" "1.0"
expect_eq "request_count_total counts every call of a route" \
    "$(metric 'request_count_total{endpoint="/tasks/<id>",method="DELETE"}')" "2.0"
if command -v promtool >/dev/null; then
    tap_check "/metrics passes promtool check metrics" \
        sh -c "curl -s '$APP_URL/metrics' | promtool check metrics"
fi
expect_eq "the log is the blog's JSON lines" \
    "$(head -1 "$work/api/app.log" | "$py" -c 'import json,sys; print(sorted(json.load(sys.stdin)))')" \
    "['asctime', 'levelname', 'message']"
tap_stop "$APP_PID"

# ---- loadgen and the audit --------------------------------------------------------------------
start_app "$work/load" || tap_bail "the app did not start: $(cat "$work/load/app.out")"
ledger=$work/load/ledger.jsonl
"$loadgen" --api blog --rate 100 --duration 2s --max-inflight 16 --run-tag lg-flask \
    --ledger "$ledger" --json "$work/load/run.json" --quiet "$APP_URL" >"$work/load/loadgen.out" 2>&1
tap_check "loadgen runs the task mix against the blog's app with a ledger" test $? -eq 0
creates=$(grep -c '"op":"create","outcome":"ok"' "$ledger")
unanswered=$(grep -c '"op":"create","outcome":"info"' "$ledger")
rows=$(sqlite3 "$work/load/tasks.db" 'SELECT count(*) FROM tasks')
tap_check "every acknowledged create is a row (no ids come back, so the mix only creates)" \
    test "$rows" -ge "$creates" -a "$rows" -le $((creates + unanswered))
tap_check "the ledger's creates have no id (the blog's answer names none)" \
    sh -c "! grep -q '\"id\"' '$ledger'"

audit() { # OUT FLAGS...: loadgen audit --api blog ...; its exit status
    local out=$1
    shift
    "$loadgen" audit --api blog --ledger "$ledger" --retry-for 0s "$@" "$APP_URL" >"$out" 2>&1
}
audit "$work/load/clean.out" --json "$work/load/clean.json"
rc=$?
expect_eq "the audit of a healthy run exits 0" "$rc" 0
tap_check "and finds every create, nothing lost" \
    grep -Eq "verdict   ok [0-9]+, lost 0, unexpected 0, recovered [0-9]+\$" "$work/load/clean.out"
tap_check "it says CLEAN" grep -q '^CLEAN: every acknowledged write' "$work/load/clean.out"
expect_eq "each write of the ledger has its verdict (ok, or recovered for an unanswered one)" \
    "$("$py" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["ok"] + r["recovered"])' \
        "$work/load/clean.json")" "$(grep -c . "$ledger")"

# Rows deleted behind the app's back: exactly those writes are lost.
sqlite3 "$work/load/tasks.db" "SELECT task FROM tasks WHERE id IN (3, 17, 42) ORDER BY id" \
    >"$work/load/deleted.txt"
sqlite3 "$work/load/tasks.db" "DELETE FROM tasks WHERE id IN (3, 17, 42)"
audit "$work/load/lost.out" --json "$work/load/lost.json"
rc=$?
expect_eq "after three rows are deleted the audit exits 1" "$rc" 1
tap_check "it finds exactly three lost" \
    grep -Eq "verdict   ok [0-9]+, lost 3, unexpected 0, recovered [0-9]+\$" "$work/load/lost.out"
lost_texts=$("$py" -c 'import json,sys
print("\n".join(sorted(f["expected"]["task"] for f in json.load(open(sys.argv[1]))["findings"])))' \
    "$work/load/lost.json")
expect_eq "the lost writes are the creates of the deleted rows' texts" \
    "$lost_texts" "$(sort "$work/load/deleted.txt")"
tap_check "each is named by its ledger line" \
    grep -q "lost: the ok create at ledger line [0-9]* (status 201) is missing: no row holds its text" \
    "$work/load/lost.out"

# The same audit through the app's cursor pages (10 rows a page).
audit "$work/load/cursor.out" --list-url '/tasks?limit=10' --paging cursor --items /tasks \
    --cursor-field /next_cursor --cursor-param cursor
rc=$?
expect_eq "through cursor paging the audit also exits 1" "$rc" 1
tap_check "with the same three lost" \
    grep -Eq "verdict   ok [0-9]+, lost 3, unexpected 0, recovered [0-9]+\$" "$work/load/cursor.out"
# Ten rows a page: R rows take ceil(R/10) pages (the app looks one row ahead, so the last page's
# cursor is null even when it is full).
read_rows=$(sed -n 's/^  server    \([0-9]*\) rows read in \([0-9]*\) pages.*/\1 \2/p' "$work/load/cursor.out")
expect_eq "pages of 10 rows, the last one ending with a null cursor" \
    "$(echo "$read_rows" | awk '{ print $2 }')" \
    "$(echo "$read_rows" | awk '{ print $1 ? int(($1 + 9) / 10) : 1 }')"
tap_stop "$APP_PID"

# ---- the faults issue 12 shows on it ----------------------------------------------------------
mkdir -p "$work/mount/tasks.db"
"$py" "$app" --listen 127.0.0.1:0 --db "$work/mount/tasks.db" --log-file "$work/mount/app.log" \
    --init-tries 2 >"$work/mount/app.out" 2>&1
rc=$?
expect_eq "a database path that is a directory kills the app at start (init_db gives up)" \
    "$rc:$(grep -c '^Exception: Failed to initialize database' "$work/mount/app.out")" "1:1"

start_app "$work/deleted" || tap_bail "the app did not start: $(cat "$work/deleted/app.out")"
req POST /tasks '{"task":"before"}' >/dev/null
rm "$work/deleted/tasks.db"
expect_eq "with its database deleted a write is 500 (a new empty file has no table)" \
    "$(req POST /tasks '{"task":"after"}' | head -c3)" "500"
expect_eq "and the 500 is not in error_count_total (the blog counted 4xx only)" \
    "$(metric 'error_count_total{endpoint="/tasks",method="POST"}')" ""
expect_eq "while /health still says 200" "$(req GET /health | head -c3)" "200"
tap_stop "$APP_PID"

tap_finish
