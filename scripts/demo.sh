#!/usr/bin/env bash
# make demo: the whole bench in one command, under two minutes. Starts taskd on a free port
# with a fresh data directory, drives a short mixed load with loadgen (HTML report), then runs
# two chaos experiments — the database path turned into a directory by a Docker bind mount
# (volume-mount), and a database missing at start (db-missing) — and prints what was injected,
# what taskd did, the time to detect and to recover, and the writes lost. When Debian's
# prometheus and prometheus-alertmanager are installed, the native stack (stack/local) scrapes
# taskd with the repository's alert rules (time-compressed 30x) and chaos receives
# Alertmanager's webhooks, so the summary also shows when each alert fired and resolved; then the
# validator checks every dashboard panel against what the experiments really did (truth report).
# Everything stays on 127.0.0.1; DEMO_KEEP=0 removes the reports at the end.
set -u
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
taskd="$build/bin/taskd" loadgen="$build/bin/loadgen" chaos="$build/bin/chaos"
work=$(mktemp -d /tmp/taskbench-demo.XXXXXX)
pid= stack=0 sampler=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -n "$sampler" ] && kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null
    [ $stack = 1 ] && stack/local/stack.sh down --dir "$work/stack" >/dev/null 2>&1
    [ "${DEMO_KEEP:-1}" = 0 ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
started=$(date +%s)
port=$(free_port)
url="http://127.0.0.1:$port"

step "1. taskd on $url with a fresh data directory"
mkdir -p "$work/data"
"$taskd" --listen "127.0.0.1:$port" --db "$work/data/tasks.db" --log-file "$work/taskd.log" &
pid=$!
for _ in $(seq 50); do curl -fs -o /dev/null "$url/readyz" && break; sleep 0.1; done
curl -s -X POST -H 'Content-Type: application/json' -d '{"task": "Test"}' "$url/tasks"
echo "   (the blog's curl, unchanged)"

step "2. five seconds of mixed load: 500 requests/s, create/read/update/delete"
"$loadgen" --rate 500 --duration 5s --html "$work/load.html" --json "$work/load.json" \
    --ledger "$work/load.ledger" "$url" | sed -n '/requests /,/all (lag)/p'
"$loadgen" audit --ledger "$work/load.ledger" "$url" | tail -1
kill "$pid" && wait "$pid" 2>/dev/null
pid=

alert_args=()
if command -v prometheus >/dev/null && command -v prometheus-alertmanager >/dev/null; then
    webhook=$(free_port)
    step "3. the native stack: Prometheus + Alertmanager with the repository's rules (30x faster)"
    if stack/local/stack.sh up --dir "$work/stack" --taskd "127.0.0.1:$port" \
        --webhook "http://127.0.0.1:$webhook/alerts" --compress 30 >"$work/stack.out" 2>&1; then
        stack=1
        sed -n '1,2p' "$work/stack.out" | sed 's/^/   /'
        # shellcheck disable=SC1091
        . "$work/stack/stack.env"
        alert_args=(--prometheus "$PROMETHEUS_URL" --alertmanager "$ALERTMANAGER_URL"
            --webhook-listen "127.0.0.1:$webhook" --alert-timeout 40s)
    else
        echo "   the native stack did not start (see $work/stack.out); going on without alerts"
    fi
else
    step "3. (no prometheus/alertmanager installed: alerts are skipped; make deps installs them)"
fi

step "4. chaos: break the database under load, twice"
fault=3s
[ $stack = 1 ] && fault=8s
# taskd sampled from outside (/proc, statvfs) for the truth report (step 6).
python3 scripts/proc_sampler.py --port "$port" --data-dir "$work" --out "$work/proc.jsonl" --duration 120 &
sampler=$!
"$chaos" run volume-mount db-missing --work-dir "$work/chaos" --steady 2s --fault $fault \
    --taskd-arg=--listen=127.0.0.1:$port --taskd-arg=--check-interval=100ms \
    --html "$work/chaos.html" --journal "$work/chaos.json" -q "${alert_args[@]}" >"$work/chaos.out" 2>&1
chaos_rc=$?
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
sampler=
grep -vE '^\s+\[ok\]' "$work/chaos.out" | sed 's/^/   /'

step "5. summary"
python3 - "$work/chaos.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
what = {
    "volume-mount": "the database path became a directory (what `docker run -v host:container` does for a missing host file)",
    "db-missing": "the database file was gone when taskd started",
}
for e in doc["experiments"]:
    w = e["writes"]
    print(f"  {e['scenario']}: {e['status'].upper()}")
    print(f"    injected      {what.get(e['scenario'], e['description'])}")
    o = e.get("observed") or {}
    did = []
    if o.get("readiness_dropped"):
        did.append("stayed up with /readyz 503")
    if o.get("file_states"):
        did.append("reported taskd_db_file_state " + "/".join(o["file_states"]))
    did.append(f"refused {w['refused_in_fault']} writes with 503, acknowledged {w['acknowledged_in_fault']}")
    if o.get("recovery_write_status"):
        did.append(f"recovered by itself (next write: {o['recovery_write_status']})")
    print(f"    taskd did     {', '.join(did)}")
    print(f"    expected      {e['expected']['summary']}")
    print(f"    detected in   {e['time_to_detect_s']} s; recovered {e['time_to_recover_s']} s after the rollback")
    print(f"    writes        {w['acknowledged']} acknowledged in all, {w['lost']} lost (ledger audit; integrity_check {o.get('integrity_check')})")
    for a in ((e.get("alerts") or {}).get("seen") or []):
        if a.get("expected"):
            print(f"    alert         {a['name']}: fired {a['time_to_fire_s']} s after the injection, resolved {a['time_to_resolve_s']} s after the rollback")
PY

truth_summary=
if [ $stack = 1 ]; then
    step "6. truth: do the dashboards tell what just happened?"
    # The run record of the experiments (docs/validator.md): their window, the Prometheus that
    # scraped them, taskd's logs and databases, the chaos journal.
    python3 - "$work" "$PROMETHEUS_URL" "127.0.0.1:$port" "$SCRAPE_INTERVAL_SECONDS" \
        "$EVALUATION_INTERVAL_SECONDS" <<'PY'
import glob, json, os, subprocess, sys
work, prom, instance, scrape, evaluation = sys.argv[1:6]
j = json.load(open(os.path.join(work, "chaos.json")))
starts = [int(e["start_unix_ns"]) / 1e9 for e in j["experiments"] if e.get("start_unix_ns")]
ends = [int(e["start_unix_ns"]) / 1e9 + (e["times"].get("ended_s") or 0) for e in j["experiments"] if e.get("start_unix_ns")]
lookback = subprocess.run(["python3", "stack/local/compress.py", "--factor", "30", "--min", "4s", "--duration", "5m"],
                          capture_output=True, text=True).stdout.strip() or "10s"
record = {
    "schema": "taskbench.run/1",
    "description": "make demo: " + ", ".join(e["scenario"] for e in j["experiments"]),
    "window": {"from": min(starts), "to": max(ends) + 2},
    "prometheus": {"url": prom, "data": "stack/prometheus-data", "scrape_interval": scrape + "s",
                   "evaluation_interval": evaluation + "s", "lookback_delta": lookback, "rules": "stack/rules"},
    "services": [{"kind": "taskd", "job": "taskd", "instance": instance,
                  "logs": sorted(os.path.relpath(p, work) for p in glob.glob(os.path.join(work, "chaos", "*", "taskd.log"))),
                  "check_interval": "100ms", "samples": "proc.jsonl"}],
    "chaos": ["chaos.json"],
}
json.dump(record, open(os.path.join(work, "run.json"), "w"), indent=2)
PY
    "$build/bin/validator" truth --record "$work/run.json" --html "$work/truth.html" >"$work/truth.out" 2>&1
    grep -E '^FAIL ' "$work/truth.out" | sed 's/^/   /'
    truth_summary=$(tail -1 "$work/truth.out")
    echo "   $truth_summary"
    echo "   (the loadgen panels are not checked: no loadgen runs beside chaos here; scripts/truth_run.sh has one)"
fi
echo
echo "   reports:  $work/load.html (load)   $work/chaos.html (experiments)${truth_summary:+   $work/truth.html (truth)}"
echo "   journal:  $work/chaos.json   taskd log: $work/chaos/*/taskd.log${truth_summary:+   run record: $work/run.json}"
echo "   took $(($(date +%s) - started)) s"
exit $chaos_rc
