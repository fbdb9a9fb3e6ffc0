#!/usr/bin/env bash
# loadgen on workloads described by the user, against real servers on loopback: nginx (one
# worker, answers chosen per location: 200, 401, 429, a JSON body, a 1 MiB file, a server that
# closes every 5th connection) and taskd. Each check is one behaviour a user relies on:
# success is the user's rule (a run answered entirely with 401 fails error_ratio<1%), targets
# are named routes in the JSON, the ledger-free summary, /metrics, thresholds and the requests
# file, templates render per request (and shards take their own CSV rows), -n is exact, bodies
# of any size go out and come back, connections opened show a reconnect storm, and the direct
# path and libcurl agree. Runs are bounded by -n, so the script takes seconds.
# Usage: tests/loadgen/test_targets.sh BUILD_DIR (from the repository root). Prints TAP.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:?usage: tests/loadgen/test_targets.sh BUILD_DIR}
tap_skip_without nginx python3 curl jq
loadgen="$build/bin/loadgen"
TASKD_BIN=${TASKD_BIN:-$build/bin/taskd}
tap_workdir targets
w=$tap_work

# ---- servers --------------------------------------------------------------------------------

port=$(tap_free_port)
port2=$(tap_free_port)
mkdir -p "$w/nginx/www/upload"
head -c 1048576 /dev/urandom >"$w/nginx/www/big.bin"
chmod 755 "$w" "$w/nginx" "$w/nginx/www" # nginx's worker runs as nobody
chmod 777 "$w/nginx/www/upload"
tap_start_nginx "$w/nginx" "http://127.0.0.1:$port/" <<CONF || tap_bail "nginx did not start: $(cat "$w/nginx/stderr")"
    client_max_body_size 64m;
    server {
        listen 127.0.0.1:$port;
        keepalive_requests 100000;
        location / { return 200 "ok\n"; }
        location = /unauthorized { return 401 '{"error":"who are you"}'; }
        location = /limited { return 429 '{"error":"slow down"}'; }
        location = /things { add_header Location "/api/things/th-\$request_id" always; return 201 "{}"; }
        location = /json { default_type application/json; return 200 '{"status":"ok","items":[1,2,3]}'; }
        location = /echo { return 200 "\$request_method \$content_length [\$content_type]\n"; }
        location = /big.bin { root $w/nginx/www; }
        location /upload/ { root $w/nginx/www; dav_methods PUT; }
    }
    server {
        listen 127.0.0.1:$port2;
        keepalive_requests 5;
        location / { return 200 "short-lived\n"; }
    }
CONF
url="http://127.0.0.1:$port"
url2="http://127.0.0.1:$port2"
tap_start_taskd "$w/taskd" || tap_bail "taskd did not start: $(cat "$w/taskd/taskd.out")"

# lg NAME ARGS...: runs loadgen quietly with a JSON result in $w/NAME.json; the exit code is in
# $rc and stdout+stderr in $w/NAME.out.
lg() {
    local name=$1
    shift
    timeout 60 "$loadgen" --json "$w/$name.json" --no-progress "$@" >"$w/$name.out" 2>&1
    rc=$?
}

# q FILE EXPR: a Python expression over the JSON document d (and rows: the requests file's
# records, when FILE.requests exists); prints its value.
q() {
    python3 - "$@" <<'PY'
import csv, json, sys
d = json.load(open(sys.argv[1]))
route = {r["name"]: r for r in d["routes"]}
print(eval(sys.argv[2]))
PY
}

# expect_true DESC FILE EXPR: one TAP line, ok when the expression holds.
expect_true() {
    local v
    v=$(q "$2" "$3" 2>&1)
    if [ "$v" = True ]; then tap_ok "$1"; else tap_not_ok "$1" "$3 -> $v"$'\n'"$(cat "${2%.json}.out" 2>/dev/null | head -30)"; fi
}

# ---- success is the user's rule ----------------------------------------------------------------

lg all401 --raw -n 200 -c 4 --threshold 'error_ratio<1%' "$url/unauthorized"
if [ "$rc" = 99 ] && grep -q 'threshold failed: error_ratio<1% (error_ratio was 100%)' "$w/all401.out"; then
    tap_ok "a run answered entirely with 401 fails error_ratio<1% (exit 99)"
else
    tap_not_ok "a run answered entirely with 401 fails error_ratio<1% (exit 99)" "exit $rc: $(cat "$w/all401.out")"
fi
expect_true "the 401s are counted as unexpected statuses" "$w/all401.json" \
    'd["totals"]["unexpected_status"] == 200 and d["totals"]["failed"] == 200 and d["totals"]["codes"] == {"401": 200}'
lg ok401 --raw -n 200 -c 4 --expect-status 401 --threshold 'error_ratio<1%' "$url/unauthorized"
[ "$rc" = 0 ] && tap_ok "--expect-status 401 makes the same run pass" || tap_not_ok "--expect-status 401 makes the same run pass" "exit $rc: $(cat "$w/ok401.out")"
lg all429 --raw -n 100 -c 2 --threshold 'status.429<1' --threshold '4xx_ratio<50%' "$url/limited"
if [ "$rc" = 99 ] && grep -q 'status.429 was 100' "$w/all429.out" && grep -q '4xx_ratio was 100%' "$w/all429.out"; then
    tap_ok "thresholds on a status (status.429) and a class (4xx_ratio) fail a run of 429s"
else
    tap_not_ok "thresholds on a status (status.429) and a class (4xx_ratio) fail a run of 429s" "exit $rc: $(cat "$w/all429.out")"
fi

# ---- a targets file: named routes everywhere -----------------------------------------------------

cat >"$w/targets.txt" <<EOF
# @name home
# @weight 3
GET /

# @name api
# @expect-body "status":"ok"
GET /json
Accept: application/json

# @name quota
# @expect 429
GET /limited

# @name wrongbody
# @weight 0
GET /json
EOF
lg named --targets "$w/targets.txt" -n 1000 -c 4 --requests-out "$w/named.csv" \
    --threshold 'home.p99<5s' --threshold 'api.error_ratio<1%' --threshold 'quota.status.429_ratio>=1' "$url"
[ "$rc" = 0 ] && tap_ok "a targets file runs with thresholds on its routes by name" || tap_not_ok "a targets file runs with thresholds on its routes by name" "exit $rc: $(cat "$w/named.out")"
expect_true "-n 1000: exactly 1000 requests, in the routes' weights (3:1:1, weight 0 never)" "$w/named.json" \
    'd["totals"]["completed"] == 1000 and sorted(route) == ["api", "home", "quota"] and 540 < route["home"]["requests"] < 660 and d["totals"]["failed"] == 0'
expect_true "each route keeps its method and the URL as written" "$w/named.json" \
    'route["api"]["method"] == "GET" and route["api"]["route"] == "/json" and route["quota"]["codes"] == {"429": route["quota"]["requests"]}'
if grep -q '^  home  GET /' "$w/named.out" && grep -q '^  quota GET /limited' "$w/named.out"; then
    tap_ok "the summary has a row per target, by name"
else
    tap_not_ok "the summary has a row per target, by name" "$(cat "$w/named.out")"
fi
python3 - "$w/named.csv" >"$w/named.check" 2>&1 <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 1000, len(rows)
names = {r["target"] for r in rows}
assert names == {"home", "api", "quota"}, names
for r in rows:
    assert int(r["intended_unix_us"]) <= int(r["sent_unix_us"]) <= int(r["done_unix_us"]), r
    assert r["error"] == "" and r["dns_us"] == "", r
    assert int(r["bytes_sent"]) > 0 and int(r["first_byte_us"]) >= 0, r
assert sum(r["new_connection"] == "1" for r in rows) == 4
print("ok")
PY
[ "$(tail -1 "$w/named.check")" = ok ] && tap_ok "--requests-out FILE.csv: one row per request with its times, target, status, bytes and connection" || tap_not_ok "--requests-out FILE.csv: one row per request with its times, target, status, bytes and connection" "$(cat "$w/named.check")"
lg poisson --targets "$w/targets.txt" --rate 1000 --poisson -n 300 "$url"
expect_true "-n ends an open-model run of Poisson arrivals (no duration) after exactly n requests" \
    "$w/poisson.json" 'd["totals"]["completed"] == 300 and d["totals"]["not_started"] == 0'
lg typo --targets "$w/targets.txt" -n 10 --threshold 'hom.p99<5s' "$url"
if [ "$rc" = 2 ] && grep -q 'this run has no route hom; its routes are home, api, quota, wrongbody' "$w/typo.out"; then
    tap_ok "a threshold on a route the run does not have is a usage error naming the routes"
else
    tap_not_ok "a threshold on a route the run does not have is a usage error naming the routes" "exit $rc: $(cat "$w/typo.out")"
fi
printf 'GET /\nBad header line\n' >"$w/bad.txt"
lg bad --targets "$w/bad.txt" -n 10 "$url"
if [ "$rc" = 1 ] && grep -q "bad.txt:2: the header Bad header line is not \"Name: value\"" "$w/bad.out"; then
    tap_ok "a malformed targets file stops loadgen before any request, naming the line"
else
    tap_not_ok "a malformed targets file stops loadgen before any request, naming the line" "exit $rc: $(cat "$w/bad.out")"
fi

# ---- the body check ------------------------------------------------------------------------------

lg body --raw -n 300 -c 3 --expect-body '"status":"missing"' --requests-out "$w/body.jsonl" "$url/json"
expect_true "--expect-body: a 200 without the text is a failure (body_mismatch)" "$w/body.json" \
    'd["totals"]["body_mismatch"] == 300 and d["totals"]["error_ratio"] == 1'
if python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert len(rows)==300 and all(r["error"]=="body_mismatch" and r["status"]==200 for r in rows)' "$w/body.jsonl" 2>"$w/body.check"; then
    tap_ok "--requests-out FILE.jsonl: the body_mismatch of every request"
else
    tap_not_ok "--requests-out FILE.jsonl: the body_mismatch of every request" "$(cat "$w/body.check")"
fi

# ---- connections -----------------------------------------------------------------------------------

lg storm --raw -n 500 -c 4 --threshold 'connections_opened<=16' --requests-out "$w/storm.csv" "$url2/"
expect_true "a server that closes every 5th request: 100 connections opened, in totals and series" "$w/storm.json" \
    '98 <= d["totals"]["connections"]["opened"] <= 104 and sum(r["connections_opened"] for r in d["series"]) == d["totals"]["connections"]["opened"] and d["totals"]["failed"] == 0'
if [ "$rc" = 99 ] && grep -q 'threshold failed: connections_opened<=16' "$w/storm.out" && grep -qE 'connections (9[89]|10[0-4]) opened' "$w/storm.out"; then
    tap_ok "the reconnect storm shows in the summary and fails connections_opened<=16"
else
    tap_not_ok "the reconnect storm shows in the summary and fails connections_opened<=16" "exit $rc: $(cat "$w/storm.out")"
fi
n_new=$(python3 -c 'import csv,sys; print(sum(r["new_connection"]=="1" for r in csv.DictReader(open(sys.argv[1]))))' "$w/storm.csv")
opened=$(q "$w/storm.json" 'd["totals"]["connections"]["opened"]')
[ "$n_new" = "$opened" ] && tap_ok "every opened connection is one request marked new_connection" || tap_not_ok "every opened connection is one request marked new_connection" "$n_new requests vs $opened connections"

# ---- bodies of any size -----------------------------------------------------------------------------

head -c 5242880 /dev/urandom >"$w/five.bin"
# nginx's WebDAV PUT stores the whole body before it answers 201; the file is a binary one, sent
# as it is (not a template, though it may hold "{{")
printf '# @name upload\n# @expect 201\nPUT /upload/f{{seq}}.bin\nContent-Type: application/octet-stream\n@five.bin\n\n# @name download\nGET /big.bin\n' >"$w/big.txt"
lg big --targets "$w/big.txt" -n 40 -c 2 --requests-out "$w/big.csv" "$url"
expect_true "5 MiB request bodies go out and 1 MiB responses come back, all successes" "$w/big.json" \
    'd["totals"]["failed"] == 0 and d["totals"]["bytes_received"] >= route["download"]["requests"] * 1048576 > 0 and route["upload"]["requests"] > 0'
stored=$(ls "$w/nginx/www/upload" | head -1)
if [ -n "$stored" ] && cmp -s "$w/five.bin" "$w/nginx/www/upload/$stored"; then
    tap_ok "a stored upload is the body file, byte for byte"
else
    tap_not_ok "a stored upload is the body file, byte for byte" "$(ls -la "$w/nginx/www/upload" | head)"
fi
if python3 -c 'import csv,sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["target"] == "upload": assert int(r["bytes_sent"]) > 5242880 and r["status"] == "201", r
    else: assert int(r["bytes_received"]) == 1048576, r' "$w/big.csv" 2>"$w/big.check"; then
    tap_ok "the requests file counts the bytes of each request and response"
else
    tap_not_ok "the requests file counts the bytes of each request and response" "$(cat "$w/big.check")"
fi

# ---- several origins, and libcurl against the direct path ----------------------------------------

printf 'GET %s/json\n\nGET %s/\n' "$url" "$url2" >"$w/two.txt"
lg two --targets "$w/two.txt" -n 400 -c 4 --requests-out "$w/two.jsonl"
# the second server closes every 5th request's connection: about 40 of 200 requests reconnect;
# a slot taken from one server for the other would reconnect far more often
expect_true "targets on two servers in one file: both answered, each slot kept on its server" "$w/two.json" \
    'd["totals"]["failed"] == 0 and set(route) == {"get_json", "get_root"} and d["mode"] == "targets" and d["totals"]["connections"]["opened"] <= 60'
lg twocurl --targets "$w/two.txt" -n 400 -c 4 --libcurl --requests-out "$w/twocurl.jsonl"
expect_true "--libcurl runs the same targets with the same routes and counts" "$w/twocurl.json" \
    'd["totals"]["failed"] == 0 and set(route) == {"get_json", "get_root"} and d["totals"]["completed"] == 400'
if python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
new=[r for r in rows if r["new_connection"]]
assert new and all("connect_us" in r and "dns_us" in r and "tls_us" in r for r in rows)
assert all("connect_us" not in json.loads(l) for l in open(sys.argv[2]))' "$w/twocurl.jsonl" "$w/two.jsonl" 2>"$w/curl.check"; then
    tap_ok "on the libcurl path each request has its DNS, connect and TLS times; not on the direct path"
else
    tap_not_ok "on the libcurl path each request has its DNS, connect and TLS times; not on the direct path" "$(cat "$w/curl.check")"
fi

# ---- methods and bodies as written, on both paths -------------------------------------------------

cat >"$w/methods.jsonl" <<'EOF'
{"name":"get_with_body","method":"GET","url":"/echo","body":"abc","expect_body":"GET 3"}
{"name":"put_without_body","method":"PUT","url":"/echo","expect_body":"PUT 0"}
{"name":"patch","method":"PATCH","url":"/echo","body":"{{seq}}{{seq}}","expect_body":"PATCH "}
{"name":"delete","method":"DELETE","url":"/echo","expect_body":"DELETE"}
{"name":"options","method":"OPTIONS","url":"/echo","expect_body":"OPTIONS"}
{"name":"post_untyped","method":"POST","url":"/echo","body":"x=1","expect_body":"POST 3 []"}
{"name":"post_typed","method":"POST","url":"/echo","headers":{"Content-Type":"text/plain"},"body":"x=1","expect_body":"POST 3 [text/plain]"}
EOF
lg methods --targets "$w/methods.jsonl" -n 200 -c 2 "$url"
lg methodscurl --targets "$w/methods.jsonl" -n 200 -c 2 --libcurl "$url"
expect_true "every method goes out as written, with its body or Content-Length: 0, and only the given Content-Type (direct path)" \
    "$w/methods.json" 'd["totals"]["failed"] == 0 and len(route) == 7'
expect_true "every method goes out as written, with its body or Content-Length: 0, and only the given Content-Type (libcurl)" \
    "$w/methodscurl.json" 'd["totals"]["failed"] == 0 and len(route) == 7'

# ---- templates and CSV rows against taskd ------------------------------------------------------------

printf 'name,note\nann,"says ""hi"""\nbob,b\ncy,c\ndee,d\n' >"$w/rows.csv"
cat >"$w/create.jsonl" <<'EOF'
{"name":"create","method":"POST","url":"/tasks","headers":{"Content-Type":"application/json"},"body":"{\"task\":\"{{run_tag}} {{data.name}} {{seq}} {{data.note | json}} {{uuid}}\"}","expect":"201"}
EOF
# -n 40 and -c 2 split over two shards, as --rate does: 20 requests on one connection each
lg shard1 --targets "$w/create.jsonl" --data "$w/rows.csv" --shard 1/2 -n 40 -c 2 --run-tag tplA "$TASKD_URL"
rc1=$rc
lg shard2 --targets "$w/create.jsonl" --data "$w/rows.csv" --shard 2/2 -n 40 -c 2 --run-tag tplA "$TASKD_URL"
curl -fs "$TASKD_URL/tasks?limit=1000" >"$w/tasks.json"
if [ "$rc1" = 0 ] && [ "$rc" = 0 ] && python3 - "$w/tasks.json" >"$w/tpl.check" 2>&1 <<'PY'
import json, sys
tasks = [t["task"] for t in json.load(open(sys.argv[1])) if t["task"].startswith("tplA ")]
assert len(tasks) == 40, len(tasks)
seqs, uuids, names = set(), set(), {}
for t in tasks:
    tag, name, seq, rest = t.split(" ", 3)
    note, uuid = rest.rsplit(" ", 1)
    seqs.add(int(seq)); uuids.add(uuid)
    names.setdefault(name, set()).add(int(seq) % 2)  # shard 1 takes odd sequence numbers
    assert note == {"ann": 'says "hi"', "bob": "b", "cy": "c", "dee": "d"}[name], t
    assert len(uuid) == 36 and uuid[14] == "4", uuid
assert seqs == set(range(1, 41)), sorted(seqs)   # unique across both shards
assert len(uuids) == 40
assert names == {"ann": {1}, "cy": {1}, "bob": {0}, "dee": {0}}, names  # each shard its own rows
print("ok")
PY
then
    tap_ok "templates: one {{seq}} per request unique across shards, fresh UUIDs, JSON-escaped CSV values, each shard its own rows"
else
    tap_not_ok "templates: one {{seq}} per request unique across shards, fresh UUIDs, JSON-escaped CSV values, each shard its own rows" "exits $rc1 $rc: $(cat "$w/tpl.check" "$w/shard1.out")"
fi

# ---- the documented example against taskd: loadgen's counts are taskd's ----------------------------

curl -fs "$TASKD_URL/metrics" >"$w/before.prom"
lg example --targets docs/examples/taskd.targets --data docs/examples/todo.csv -n 2000 -c 8 \
    --threshold 'error_ratio<1%' "$TASKD_URL"
curl -fs "$TASKD_URL/metrics" >"$w/after.prom"
if [ "$rc" = 0 ] && python3 - "$w/example.json" "$w/before.prom" "$w/after.prom" >"$w/example.check" 2>&1 <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
route = {r["name"]: r for r in d["routes"]}
def counts(path):
    out = {}
    for line in open(path):
        m = re.match(r'http_requests_total\{method="(\w+)",route="([^"]+)",code="(\d+)"\} (\d+)', line)
        if m:
            out[m.group(1, 2, 3)] = int(m.group(4))
    return out
before, after = counts(sys.argv[2]), counts(sys.argv[3])
delta = lambda k: after.get(k, 0) - before.get(k, 0)
want = {"create": ("POST", "/tasks", "201"), "invalid": ("POST", "/tasks", "400"),
        "list": ("GET", "/tasks", "200"), "missing": ("GET", "/tasks/{id}", "404"),
        "ready": ("GET", "/readyz", "200")}
for name, key in want.items():
    assert route[name]["codes"] == {key[2]: route[name]["requests"]}, (name, route[name]["codes"])
    assert delta(key) == route[name]["requests"], (name, delta(key), route[name]["requests"])
assert d["totals"]["completed"] == 2000 and d["totals"]["failed"] == 0
print("ok")
PY
then
    tap_ok "docs/examples/taskd.targets: every target's count equals taskd's own /metrics, none failed"
else
    tap_not_ok "docs/examples/taskd.targets: every target's count equals taskd's own /metrics, none failed" "exit $rc: $(cat "$w/example.check" "$w/example.out")"
fi

# ---- a targets workload's writes in the ledger, audited ----------------------------------------

# 40 tasks made beforehand (not in the ledger): the run updates 20 of them and deletes the other
# 20, one CSV row each (-c 1: no two writes to one id overlap), and creates new ones.
echo "upd,del" >"$w/ids.csv"
new_task() {
    curl -fs -H 'Content-Type: application/json' -d '{"task":"before"}' "$TASKD_URL/tasks" |
        sed -n 's/^{"id":\([0-9]*\),.*/\1/p'
}
for _ in $(seq 20); do
    echo "$(new_task),$(new_task)" >>"$w/ids.csv"
done
cat >"$w/writes.jsonl" <<'EOF'
{"name":"add","method":"POST","url":"/tasks","headers":{"Content-Type":"application/json"},"body":"{\"task\":\"{{run_tag}}-0-{{seq}}c\",\"done\":false}","expect":"201","ledger":"create","weight":2}
{"name":"rename","method":"PUT","url":"/tasks/{{data.upd}}","headers":{"Content-Type":"application/json"},"body":"{\"task\":\"{{run_tag}}-0-{{seq}}u\",\"done\":true}","ledger":"update"}
{"name":"remove","method":"DELETE","url":"/tasks/{{data.del}}","ledger":"delete"}
{"name":"look","method":"GET","url":"/tasks/{{data.upd}}"}
EOF
lg writes --targets "$w/writes.jsonl" --data "$w/ids.csv" -n 20 -c 1 --seed 7 \
    --ledger "$w/writes.ledger" "$TASKD_URL"
"$loadgen" audit --ledger "$w/writes.ledger" "$TASKD_URL" >"$w/audit.out" 2>&1
arc=$?
if [ "$rc" = 0 ] && [ "$arc" = 0 ] && python3 - "$w/writes.ledger" "$w/writes.json" >"$w/writes.check" 2>&1 <<'PY'
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
route = {r["name"]: r for r in json.load(open(sys.argv[2]))["routes"]}
by = {}
for e in entries:
    by.setdefault(e["target"], []).append(e)
assert set(by) == {"add", "rename", "remove"}, set(by)  # reads write nothing
for name, op in (("add", "create"), ("rename", "update"), ("remove", "delete")):
    assert len(by[name]) == route[name]["requests"], (name, len(by[name]))
    assert all(e["op"] == op and e["outcome"] == "ok" and isinstance(e["id"], int)
               for e in by[name]), by[name][:2]
assert all(e["task"].endswith("c") and e["done"] is False for e in by["add"])
assert all(e["task"].endswith("u") and e["done"] is True for e in by["rename"])
assert len({e["id"] for e in by["add"]}) == len(by["add"])  # each create its own new id
print("ok")
PY
then
    tap_ok "ledger roles: a targets file's creates (id from the answer), updates and deletes (id from the URL) are recorded by target, and the audit finds them on the server"
else
    tap_not_ok "ledger roles: a targets file's creates (id from the answer), updates and deletes (id from the URL) are recorded by target, and the audit finds them on the server" \
        "exits $rc $arc: $(cat "$w/writes.check" "$w/audit.out" "$w/writes.out")"
fi
# ids from the Location header (--id-from location), on both paths
cat >"$w/things.jsonl" <<'EOF'
{"name":"thing","method":"POST","url":"/things","body":"{\"task\":\"t\"}","ledger":"create"}
EOF
for path in direct libcurl; do
    flag=()
    [ "$path" = libcurl ] && flag=(--libcurl)
    lg "things-$path" --targets "$w/things.jsonl" -n 10 -c 2 "${flag[@]}" --id-from location \
        --item-url '/things/{id}' --ledger "$w/things-$path.ledger" "$url"
    if [ "$rc" = 0 ] && python3 - "$w/things-$path.ledger" >"$w/things.check" 2>&1 <<'PY'
import json, re, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
assert len(entries) == 10, len(entries)
assert all(re.fullmatch(r"th-[0-9a-f]{32}", e["id"]) and e["task"] == "t" for e in entries), entries[:2]
assert len({e["id"] for e in entries}) == 10
print("ok")
PY
    then
        tap_ok "ledger roles: a create's id from its Location header ($path path)"
    else
        tap_not_ok "ledger roles: a create's id from its Location header ($path path)" "exit $rc: $(cat "$w/things.check" "$w/things-$path.out")"
    fi
done
lost=$(jq -r 'select(.target == "add") | .id' "$w/writes.ledger" | head -1)
curl -fs -X DELETE "$TASKD_URL/tasks/$lost" >/dev/null
"$loadgen" audit --ledger "$w/writes.ledger" "$TASKD_URL" >"$w/audit2.out" 2>&1
arc=$?
if [ "$arc" = 1 ] && grep -q "lost id $lost" "$w/audit2.out" && grep -Eq 'target +add' "$w/audit2.out"; then
    tap_ok "ledger roles: a created row deleted behind loadgen's back is lost, named with its target"
else
    tap_not_ok "ledger roles: a created row deleted behind loadgen's back is lost, named with its target" "exit $arc: $(cat "$w/audit2.out")"
fi

# ---- /metrics ---------------------------------------------------------------------------------------

"$loadgen" --targets "$w/targets.txt" --rate 200 -d 2s --metrics-listen 127.0.0.1:0 \
    --metrics-linger 5s --quiet "$url" >"$w/metrics.out" 2>&1 &
lgpid=$!
tap_pids+=("$lgpid")
mport=""
for _ in $(seq 100); do
    mport=$(sed -n 's#.*serving metrics on http://127.0.0.1:\([0-9]*\)/metrics#\1#p' "$w/metrics.out")
    [ -n "$mport" ] && break
    sleep 0.05
done
sleep 2.5 # the run (2 s) is over; the endpoint lingers
curl -fs "http://127.0.0.1:$mport/metrics" >"$w/metrics.txt"
tap_stop "$lgpid"
if grep -q 'loadgen_requests_total{route="quota",class="4xx"}' "$w/metrics.txt" &&
    grep -q 'loadgen_requests_failed_total{route="api",reason="body_mismatch"} 0' "$w/metrics.txt" &&
    grep -q '^loadgen_connections_opened_total [1-9]' "$w/metrics.txt" &&
    grep -q '^loadgen_connections_open ' "$w/metrics.txt"; then
    tap_ok "/metrics: requests and failures by target name, connections opened and open"
else
    tap_not_ok "/metrics: requests and failures by target name, connections opened and open" "$(grep -E 'route=|connections' "$w/metrics.txt" | head -20; cat "$w/metrics.out")"
fi
if command -v promtool >/dev/null; then
    tap_check "/metrics passes promtool check metrics" promtool check metrics <"$w/metrics.txt"
fi

tap_finish
