#!/usr/bin/env bash
# End to end on the native stack (stack/local/stack.sh, time compressed 30 times): a real taskd
# under a small steady load, scraped by a real Prometheus, its alerts routed by a real
# Alertmanager to a webhook receiver that timestamps what arrives. Checks that a healthy baseline
# notifies nothing at all, that moving the database file away makes TaskdDatabaseDown and
# TaskdDatabaseFileStateNotOk fire within the predicted time while the symptom alerts are held
# back, and that both resolve within the predicted time after the file is moved back.
# Usage: tests/stack/test_local_stack.sh BUILD_DIR (TAP on stdout; about 80 s).
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:-build}
TASKD_BIN=${TASKD_BIN:-$root/$build/bin/taskd}
factor=30

tap_skip_under_sanitizer "the stack's timing does not depend on the sanitizer build (tests/e2e covers taskd)"
tap_skip_without prometheus promtool amtool python3 curl jq
command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null ||
    tap_skip "prometheus-alertmanager is not installed (make deps)"
if [ ! -x "$TASKD_BIN" ]; then
    tap_not_ok "taskd binary $TASKD_BIN exists (build it first)"
    exit 1
fi

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
le() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)" "$1" "$2"; }

tap_workdir stack
work=$tap_work
stack="$work/stack"
data="$work/data"
mkdir -p "$data"
# shellcheck disable=SC2317 # run by the EXIT trap
undo() {
    [ -e "$data/tasks.db.away" ] && mv "$data/tasks.db.away" "$data/tasks.db"
    "$root/stack/local/stack.sh" down --dir "$stack" >/dev/null 2>&1
}
tap_exit_hooks+=(undo)

# The webhook receiver: one JSON line per notification, with the time it arrived.
cat >"$work/hook.py" <<'EOF'
import http.server, json, sys, time
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"t": time.time(), "body": body}) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
open(sys.argv[1], "w").write(str(server.server_port))
server.serve_forever()
EOF
# A steady, small load on the data routes (about 30 requests/s, keep-alive): creates, reads, lists.
cat >"$work/load.py" <<'EOF'
import http.client, json, sys, time
host, port = sys.argv[1].split(":")
conn, ids, i, start = None, [], 0, time.time()
while True:
    try:
        conn = conn or http.client.HTTPConnection(host, int(port), timeout=2)
        if i % 3 == 0:
            conn.request("POST", "/tasks", json.dumps({"task": f"load {i}"}),
                         {"Content-Type": "application/json"})
        elif i % 3 == 1 and ids:
            conn.request("GET", f"/tasks/{ids[-1]}")
        else:
            conn.request("GET", "/tasks?limit=10")
        r = conn.getresponse()
        body = r.read()
        if r.status == 201:
            ids = ids[-50:] + [json.loads(body)["id"]]
    except (OSError, http.client.HTTPException):
        conn = None
    i += 1
    time.sleep(max(0.0, start + i / 30 - time.time()))
EOF
# wait_note STATUS DEADLINE ALERTNAME [LABEL=VALUE]...: prints the arrival time of the first
# notification carrying that alert in that status, or fails at the deadline (epoch seconds).
cat >"$work/wait_note.py" <<'EOF'
import json, sys, time
path, status, deadline, name = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
want = dict(a.split("=", 1) for a in sys.argv[5:])
while time.time() < deadline:
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        note = json.loads(line)
        for a in note["body"]["alerts"]:
            if (a["labels"].get("alertname") == name and a["status"] == status
                    and all(a["labels"].get(k) == v for k, v in want.items())):
                print(f'{note["t"]:.3f}')
                sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
EOF
notes="$work/notes.jsonl"
wait_note() { python3 "$work/wait_note.py" "$notes" "$@"; }
note_summary() { # one line per notification: receiver status alertname{labels that differ}
    [ -s "$notes" ] || return 0
    jq -r '.body as $b | $b.alerts[] | "\($b.receiver) \(.status) \(.labels.alertname) \(.labels.state // "") \(.labels.long_window // "")"' "$notes"
}

# taskd on a database created by an earlier run: a fresh one would (rightly) fire
# TaskdDatabaseCreated and spoil the silent baseline.
tap_start_taskd "$data" && tap_stop "$TASKD_PID"
tap_start_taskd "$data"
port=$TASKD_PORT
T=$TASKD_URL
created=$(curl -s "$T/metrics" | awk '/^taskd_db_created_total / {print $2}')
tap_check "taskd runs on a database created by an earlier start (taskd_db_created_total $created)" \
    [ "$created" = "0" ]

python3 "$work/hook.py" "$work/hook.port" "$notes" &
tap_pids+=("$!")
for _ in $(seq 1 50); do [ -s "$work/hook.port" ] && break; sleep 0.05; done
webhook="http://127.0.0.1:$(cat "$work/hook.port")/alerts"
python3 "$work/load.py" "127.0.0.1:$port" &
tap_pids+=("$!")

t_start=$(now)
if "$root/stack/local/stack.sh" up --dir "$stack" --taskd "127.0.0.1:$port" --webhook "$webhook" \
    --compress "$factor" >"$work/up.out" 2>&1 && grep -q '^prometheus  *http' "$work/up.out"; then
    tap_ok "stack.sh up starts Prometheus and Alertmanager and prints their URLs"
    sed 's/^/# /' "$work/up.out"
else
    tap_not_ok "stack.sh up starts Prometheus and Alertmanager and prints their URLs"
    sed 's/^/# /' "$work/up.out"
    tap_finish
    exit 1
fi
# shellcheck disable=SC1091
. "$stack/stack.env"
P=$PROMETHEUS_URL AM=$ALERTMANAGER_URL

targets_up() {
    for _ in $(seq 1 100); do
        [ "$(curl -s "$P/api/v1/targets" | jq '[.data.activeTargets[] | select(.health == "up")
            | .labels.job] | sort == ["alertmanager", "prometheus", "taskd"]')" = true ] && return 0
        sleep 0.1
    done
    return 1
}
tap_check "Prometheus scrapes taskd, itself and Alertmanager (all targets up)" targets_up

# The rules Prometheus loaded are exactly those of the rule files, evaluated without errors.
expected_rules=$(python3 -c '
import sys, yaml
names = sorted(r.get("alert") or r["record"] for f in sys.argv[1:]
               for g in yaml.safe_load(open(f))["groups"] for r in g["rules"])
print(" ".join(names))' "$root"/stack/prometheus/rules/*.yml)
loaded_rules=$(curl -s "$P/api/v1/rules" | jq -r '[.data.groups[].rules[].name] | sort | join(" ")')
tap_check "Prometheus loaded every rule of stack/prometheus/rules ($(wc -w <<<"$loaded_rules") rules)" \
    [ "$loaded_rules" = "$expected_rules" ]
sleep 2
bad_rules=$(curl -s "$P/api/v1/rules" | jq -r '[.data.groups[].rules[] | select(.health == "err")
    | "\(.name): \(.lastError)"] | join("; ")')
tap_check "every rule evaluates without error${bad_rules:+ ($bad_rules)}" [ -z "$bad_rules" ]

# The timings in effect, compressed 30 times: "for: 1m" is 2 s; the page route's group_wait 30s
# is 1 s and its group_interval 5m is 10 s; scrape and evaluation every 1 s.
for_s=$(curl -s "$P/api/v1/rules" | jq '[.data.groups[].rules[] | select(.name == "TaskdDatabaseDown")][0].duration')
am_conf=$(curl -s "$AM/api/v2/status" | jq -r .config.original)
compressed() { [ "$for_s" = 2 ] && grep -q 'group_wait: 1s' <<<"$am_conf" && [ "$SCRAPE_INTERVAL_SECONDS" = 1 ]; }
tap_check "the time compression is in effect (TaskdDatabaseDown for ${for_s}s, group_wait ${GROUP_WAIT_SECONDS}s, scrape ${SCRAPE_INTERVAL_SECONDS}s)" \
    compressed
scrape=$SCRAPE_INTERVAL_SECONDS eval=$EVALUATION_INTERVAL_SECONDS db_for=$for_s
group_wait=$GROUP_WAIT_SECONDS group_interval=$GROUP_INTERVAL_SECONDS
check_interval=0.25 # taskd's default --check-interval
margin=3            # for a loaded machine: process scheduling, HTTP round trips

# Healthy baseline: from the stack's start, at least 15 s more (7.5 minutes uncompressed) under
# load: no notification at all.
sleep 15
rate=$(curl -s "$P/api/v1/query" --data-urlencode \
    'query=sum(rate(http_requests_total{job="taskd", route=~"/tasks.*"}[10s]))' |
    jq -r '.data.result[0].value[1] // "0"')
tap_check "the load reaches taskd during the baseline ($(printf '%.0f' "$rate") requests/s)" le 10 "$rate"
firing=$(curl -s "$P/api/v1/alerts" | jq -r '[.data.alerts[] | select(.state == "firing") | .labels.alertname] | join(" ")')
tap_check "no alert fires during the healthy baseline${firing:+ (firing: $firing)}" [ -z "$firing" ]
if [ -s "$notes" ]; then
    tap_not_ok "the healthy baseline ($(elapsed "$t_start" "$(now)") s) notifies nothing"
    note_summary | sed 's/^/# notified: /'
else
    tap_ok "the healthy baseline ($(elapsed "$t_start" "$(now)") s) notifies nothing"
fi

# Fault: the database file is moved away while taskd serves (state unlinked, db_up 0).
# Firing is predicted at most: taskd notices (check interval) + one scrape + one evaluation +
# "for" + group_wait, and at least "for" + group_wait (the alert is pending from the first
# evaluation that sees the fault). Resolution at most: taskd notices + one scrape + one
# evaluation + one group_interval (Alertmanager sends a group's resolution at its next flush).
predict_fire=$(python3 -c "print($check_interval + $scrape + $eval + $db_for + $group_wait)")
earliest_fire=$(python3 -c "print($db_for + $group_wait)")
predict_resolve=$(python3 -c "print($check_interval + $scrape + $eval + $group_interval)")
mv "$data/tasks.db" "$data/tasks.db.away"
t0=$(now)
for spec in "TaskdDatabaseDown" "TaskdDatabaseFileStateNotOk state=unlinked"; do
    # shellcheck disable=SC2086
    if t=$(wait_note firing "$(python3 -c "print($t0 + $predict_fire + $margin + 10)")" $spec); then
        took=$(elapsed "$t0" "$t")
        echo "# ${spec%% *}: fired and notified ${took}s after the fault (predicted ${earliest_fire}..${predict_fire}s, + ${margin}s margin)"
        latest=$(python3 -c "print($predict_fire + $margin)")
        within() { le "$earliest_fire" "$took" && le "$took" "$latest"; }
        tap_check "${spec%% *} is notified firing within the predicted time (${earliest_fire}s <= ${took}s <= ${predict_fire}s + ${margin}s)" \
            within
    else
        tap_not_ok "${spec%% *} is notified firing within the predicted time (nothing arrived)"
    fi
done

# The symptoms fire in Prometheus too (the fast burn-rate page: 4 s "for" after its 2 m and
# 10 s windows pass 1.44%), but Alertmanager holds them back: they are inhibited.
symptom_suppressed() {
    for _ in $(seq 1 100); do
        [ "$(curl -s "$AM/api/v2/alerts?filter=alertname=%22TaskdErrorBudgetBurn%22" | jq '[.[] |
            select(.labels.long_window == "1h" and .status.state == "suppressed"
                   and (.status.inhibitedBy | length) > 0)] | length')" -ge 1 ] && return 0
        sleep 0.1
    done
    return 1
}
tap_check "the fast burn-rate page fires in Prometheus and is inhibited in Alertmanager" symptom_suppressed

mv "$data/tasks.db.away" "$data/tasks.db"
t1=$(now)
echo "# fault rolled back $(elapsed "$t0" "$t1")s after it was injected"
for spec in "TaskdDatabaseDown" "TaskdDatabaseFileStateNotOk state=unlinked"; do
    # shellcheck disable=SC2086
    if t=$(wait_note resolved "$(python3 -c "print($t1 + $predict_resolve + $margin + 10)")" $spec); then
        took=$(elapsed "$t1" "$t")
        echo "# ${spec%% *}: resolved and notified ${took}s after the rollback (predicted <= ${predict_resolve}s + ${margin}s margin)"
        tap_check "${spec%% *} is notified resolved within the predicted time (${took}s <= ${predict_resolve}s + ${margin}s)" \
            le "$took" "$(python3 -c "print($predict_resolve + $margin)")"
    else
        tap_not_ok "${spec%% *} is notified resolved within the predicted time (nothing arrived)"
    fi
done
tap_check "taskd is ready again after the rollback" curl -fs -o /dev/null "$T/readyz"

# The outage's errors stay in the symptom alerts' windows after the recovery (the 6x burn rate's
# 30m window is 60 s here, and it fires 30 s after the fault); TaskdDatabaseRecentlyDown keeps
# them held back. Watch until 40 s after the fault: only the two database alerts are notified.
sleep "$(python3 -c "print(max(0, $t0 + 40 - $(now)))")"
# What fired in Prometheus since the fault (the ALERTS series), against what was notified.
since=$(python3 -c "print(int($(now) - $t0) + 2)")
fired=$(curl -s "$P/api/v1/query" --data-urlencode \
    "query=count by (alertname, severity, long_window) (max_over_time(ALERTS{alertstate=\"firing\"}[${since}s]))" |
    jq -r '[.data.result[].metric | "\(.alertname)/\(.severity)\(if .long_window then "/" + .long_window else "" end)"]
    | sort | join(" ")')
echo "# fired in Prometheus after the fault: ${fired:-nothing}"
others=$(jq -r '.body.alerts[].labels.alertname' "$notes" |
    grep -vx -e TaskdDatabaseDown -e TaskdDatabaseFileStateNotOk | sort -u | tr '\n' ' ')
tap_check "nothing but the two database alerts is notified${others:+ (also: $others)}" [ -z "$others" ]
note_summary | sed 's/^/# notified: /'

out=$("$root/stack/local/stack.sh" down --dir "$stack" 2>&1)
gone=yes
grep -q 'stopped prometheus' <<<"$out" && grep -q 'stopped alertmanager' <<<"$out" || gone=no
"$root/stack/local/stack.sh" status --dir "$stack" >/dev/null && gone=no
tap_check "stack.sh down stops Prometheus and Alertmanager" [ "$gone" = yes ]
echo "# total $(elapsed "$t_start" "$(now)") s"
tap_finish
