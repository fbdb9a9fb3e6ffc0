#!/usr/bin/env bash
# Static and unit checks of the alert rules and their runbooks: promtool check config/rules on
# the compose configuration and on the native stack's time-compressed one, promtool's unit tests
# (every alert has a case where it fires at its predicted time and one where it must not), the
# labels and annotations every alert needs, runbook links that land on a section, queries in the
# runbooks that parse, metric names that a live taskd really exports, and compress.py's contract.
# Usage: tests/stack/test_rules.sh BUILD_DIR (TAP on stdout; a few seconds).
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:-build}
TASKD_BIN=${TASKD_BIN:-$root/$build/bin/taskd}

tap_skip_under_sanitizer "configuration checks do not depend on the sanitizer build"
tap_skip_without promtool python3
python3 -c 'import yaml' 2>/dev/null || tap_skip "python3-yaml is not installed"

tap_workdir rules
work=$tap_work

rules=(stack/prometheus/rules/*.yml)
tap_check "promtool check rules accepts ${#rules[@]} rule files" promtool check rules "${rules[@]}"

# A rule_files glob that matches nothing passes promtool silently: count what it found.
config_finds_rules() {
    local out
    out=$(promtool check config "$1" 2>&1) || { echo "$out"; return 1; }
    grep -q "SUCCESS: ${#rules[@]} rule files found" <<<"$out" || { echo "$out"; return 1; }
}
tap_check "promtool check config accepts the compose prometheus.yml and finds its ${#rules[@]} rule files" \
    config_finds_rules stack/prometheus/prometheus.yml

tap_check "stack.sh generate writes the native stack's configuration, compressed 30 times" \
    stack/local/stack.sh generate --dir "$work/local" --compress 30 --taskd 127.0.0.1:5000 \
    --loadgen 127.0.0.1:9102 --webhook http://127.0.0.1:9095/alerts
tap_check "promtool check config accepts the compressed prometheus.yml and its compressed rules" \
    config_finds_rules "$work/local/prometheus.yml"

tap_check "promtool test rules: every unit test passes" promtool test rules stack/prometheus/tests/*.yml

# The structural checks, over the parsed rule files, tests and runbook.
cat >"$work/checks.py" <<'EOF'
import glob, re, sys, yaml

BASE = "https://github.com/taskbench/taskbench/blob/main/docs/runbooks.md#"
SEVERITIES = {"page", "ticket", "info", "none"}
what = sys.argv[1]

def alerting_rules():
    for path in sorted(glob.glob("stack/prometheus/rules/*.yml")):
        for group in yaml.safe_load(open(path))["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    yield path, rule

def slug(heading):
    """GitHub's anchor for a Markdown heading."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")

def rule_id(rule):
    extra = {k: v for k, v in rule["labels"].items() if k not in ("severity", "service")}
    return rule["alert"] + (str(extra) if extra else "")

problems = []
if what == "labels":
    for path, r in alerting_rules():
        labels, ann = r.get("labels", {}), r.get("annotations", {})
        if labels.get("severity") not in SEVERITIES:
            problems.append(f"{path}: {r['alert']}: severity {labels.get('severity')!r} is not one of {sorted(SEVERITIES)}")
        if not labels.get("service"):
            problems.append(f"{path}: {r['alert']}: no service label")
        for key in ("summary", "description", "runbook_url"):
            if not str(ann.get(key, "")).strip():
                problems.append(f"{path}: {r['alert']}: no {key} annotation")
        url = ann.get("runbook_url", "")
        if not url.startswith(BASE) or url[len(BASE):] != r["alert"].lower():
            problems.append(f"{path}: {r['alert']}: runbook_url {url!r} is not {BASE}{r['alert'].lower()}")
elif what == "anchors":
    text = open("docs/runbooks.md").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    headings = re.findall(r"^#{1,6} (.+)$", text, flags=re.M)
    anchors = {slug(h) for h in headings}
    alerts = set()
    for path, r in alerting_rules():
        alerts.add(r["alert"])
        anchor = r.get("annotations", {}).get("runbook_url", "").partition("#")[2]
        if anchor not in anchors:
            problems.append(f"{path}: {r['alert']}: runbook_url anchor #{anchor} has no heading in docs/runbooks.md")
    for h in re.findall(r"^## (.+)$", text, flags=re.M):
        if h.strip() not in alerts:
            problems.append(f"docs/runbooks.md: section '## {h}' is about no alert of the rule files")
    for link in re.findall(r"\]\(#([^)]+)\)", text):
        if link not in anchors:
            problems.append(f"docs/runbooks.md: link to #{link} has no heading")
elif what == "panels":
    # Every dashboard and panel a runbook's "Dashboard:" line names exists in dashboards/*.json.
    import json
    titles = set()
    for path in glob.glob("dashboards/*.json"):
        d = json.load(open(path))
        titles.add(d["title"].split(" / ")[-1])
        stack = list(d.get("panels", []))
        while stack:
            panel = stack.pop()
            titles.add(panel.get("title", ""))
            stack += panel.get("panels", [])
    text = open("docs/runbooks.md").read()
    for para in re.findall(r"\*\*Dashboard:\*\*(.*?)\n\n", text, flags=re.S):
        para = re.sub(r"\s+", " ", para)
        for name in re.findall(r"(?<!\*)\*([^*]+)\*(?!\*)", para):
            if name not in titles:
                problems.append(f"docs/runbooks.md names *{name}*, which no dashboard has as title or panel")
elif what == "coverage":
    fires, quiet = set(), set()
    for path in sorted(glob.glob("stack/prometheus/tests/*.yml")):
        for test in yaml.safe_load(open(path))["tests"]:
            for case in test.get("alert_rule_test", []):
                got = [a.get("exp_labels", {}) for a in case.get("exp_alerts") or []]
                for _, r in alerting_rules():
                    if r["alert"] != case["alertname"]:
                        continue
                    if any(all(g.get(k) == v for k, v in r["labels"].items()) for g in got):
                        fires.add(rule_id(r))
                    else:
                        quiet.add(rule_id(r))
    for path, r in alerting_rules():
        if rule_id(r) not in fires:
            problems.append(f"{path}: {rule_id(r)}: no promtool test case where it fires")
        if rule_id(r) not in quiet:
            problems.append(f"{path}: {rule_id(r)}: no promtool test case where it must not fire")
elif what == "runbook-promql":
    # Every ```promql block of the runbook, one query a line, as recording rules for promtool.
    # A line that starts with "/" or follows one ending in "/" or group_left continues a query.
    text = open("docs/runbooks.md").read()
    joined = []
    for block in re.findall(r"```promql\n(.*?)```", text, flags=re.S):
        cur = ""
        for line in block.splitlines():
            q = re.sub(r"\s+#.*$", "", line).strip()
            if not q:
                continue
            if cur and (q.startswith("/") or cur.rstrip().endswith(("/", "group_left"))):
                cur += " " + q
            else:
                if cur:
                    joined.append(cur)
                cur = q
        if cur:
            joined.append(cur)
    rules = [{"record": f"runbook_query_{i}", "expr": q} for i, q in enumerate(joined)]
    yaml.safe_dump({"groups": [{"name": "runbook", "rules": rules}]}, open(sys.argv[2], "w"))
    print(len(rules))
    sys.exit(0)
elif what == "metrics":
    # Metric names the rules and the runbook's queries select, minus recorded ones.
    exprs = [r["expr"] for _, r in alerting_rules()]
    recorded = set()
    for path in sorted(glob.glob("stack/prometheus/rules/*.yml")):
        for group in yaml.safe_load(open(path))["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    recorded.add(rule["record"])
                    exprs.append(rule["expr"])
    exprs += [r["expr"] for r in yaml.safe_load(open(sys.argv[2]))["groups"][0]["rules"]]
    names = set()
    for e in exprs:
        e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e)                        # strings
        e = re.sub(r"\{[^}]*\}", "", e)                                   # matchers
        e = re.sub(r"\[[^\]]*\]", "", e)                                  # ranges
        e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
        for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", e):
            word, call = m.group(1), m.group(2)
            if call or word in ("and", "or", "unless", "offset", "bool", "by", "on", "inf", "nan",
                                "group_left", "group_right", "ignoring", "without"):
                continue
            names.add(word)
    print("\n".join(sorted(names - recorded)))
    sys.exit(0)
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF
checks() { python3 "$work/checks.py" "$@"; }
tap_check "every alert has a known severity, a service, a summary, a description and its runbook_url" \
    checks labels
tap_check "every runbook_url anchor is a section of docs/runbooks.md, and every section is an alert's" \
    checks anchors
tap_check "every alerting rule has a unit test where it fires and one where it must not" checks coverage
if compgen -G "dashboards/*.json" >/dev/null; then
    tap_check "every dashboard and panel the runbooks point to exists in dashboards/*.json" checks panels
else
    tap_ok "every dashboard and panel the runbooks point to exists # SKIP no dashboards/*.json"
fi

queries=$(checks runbook-promql "$work/runbook_rules.yml")
tap_check "the ${queries} PromQL queries of docs/runbooks.md parse (promtool check rules)" \
    promtool check rules "$work/runbook_rules.yml"

# LogQL: parsed with Grafana's own grammar, when the dashboard validator's node modules are there.
logql_mod=dashboards/validator/node_modules/@grafana/lezer-logql
if command -v node >/dev/null && [ -d "$logql_mod" ]; then
    # shellcheck disable=SC2016 # Python, not shell
    python3 -c '
import re, sys
for block in re.findall(r"```logql\n(.*?)```", open("docs/runbooks.md").read(), flags=re.S):
    for line in block.splitlines():
        if line.strip():
            print(line.strip())' >"$work/logql.txt"
    # Loaded from the validator's node_modules, without writing into its directory.
    cat >"$work/logql.mjs" <<'EOF'
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const { parser } = createRequire(process.argv[3])('@grafana/lezer-logql');
let bad = 0;
for (const q of readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean)) {
  let err = false;
  parser.parse(q).iterate({ enter(n) { if (n.type.isError) err = true; } });
  if (err) { console.log(`does not parse: ${q}`); bad++; }
}
process.exit(bad ? 1 : 0);
EOF
    tap_check "the $(wc -l <"$work/logql.txt") LogQL queries of docs/runbooks.md parse (@grafana/lezer-logql)" \
        node "$work/logql.mjs" "$work/logql.txt" "$root/dashboards/validator/package.json"
else
    tap_ok "the LogQL queries of docs/runbooks.md parse # SKIP no node or $logql_mod (npm ci in dashboards/validator)"
fi

# Every metric a rule or a runbook query selects exists in a live scrape of taskd (loadgen's
# when its binary serves metrics; up and ALERTS come from Prometheus itself).
metrics_exist() {
    local names missing=() m
    names=$(checks metrics "$work/runbook_rules.yml") || return 1
    [ -n "$scrape" ] || { echo "taskd did not start or did not answer /metrics"; return 1; }
    for m in $names; do
        case "$m" in up | ALERTS | loadgen_*) continue ;; esac
        grep -qx -e "$m" -e "${m}_bucket" <<<"$scrape" || missing+=("$m")
    done
    [ ${#missing[@]} -eq 0 ] || { echo "not in taskd's /metrics: ${missing[*]}"; return 1; }
    echo "$names" | grep -v '^loadgen_' | tr '\n' ' ' >"$work/checked"
}
scrape=""
if [ -x "$TASKD_BIN" ]; then
    tap_start_taskd "$work/taskd"
    curl -s -o /dev/null "$TASKD_URL/tasks" # so that the http_* series exist
    scrape=$(curl -s "$TASKD_URL/metrics" | awk '!/^#/ {sub(/[{ ].*/, ""); print}' | sort -u)
    tap_check "every metric the rules and runbook queries select exists in a live taskd scrape" metrics_exist
    echo "# checked: $(cat "$work/checked" 2>/dev/null)"
else
    tap_not_ok "every metric the rules and runbook queries select exists in a live taskd scrape (no $TASKD_BIN)"
fi
# loadgen's metrics are checked against its own scrape by loadgen's tests; name them here.
echo "# loadgen metrics the rules and runbooks rely on: $(checks metrics "$work/runbook_rules.yml" |
    grep '^loadgen_' | tr '\n' ' ')"

# compress.py: factor 1 changes nothing; factor 30 changes only durations, and these exactly.
identity() {
    local f
    for f in stack/prometheus/rules/*.yml stack/prometheus/prometheus.yml stack/alertmanager/alertmanager.yml; do
        python3 stack/local/compress.py --factor 1 "$f" | cmp -s - "$f" || { echo "$f changed"; return 1; }
    done
}
tap_check "compress.py --factor 1 leaves every file byte for byte as it is" identity
only_durations() {
    local f
    for f in stack/prometheus/rules/*.yml stack/prometheus/prometheus.yml stack/alertmanager/alertmanager.yml; do
        python3 stack/local/compress.py --factor 30 "$f" >"$work/c.yml" || return 1
        python3 - "$f" "$work/c.yml" <<'EOF' || return 1
import re, sys
dur = re.compile(r"\b\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*\b")
a, b = open(sys.argv[1]).read().splitlines(), open(sys.argv[2]).read().splitlines()
assert len(a) == len(b), f"{sys.argv[1]}: line count changed"
for x, y in zip(a, b):
    if x != y and dur.sub("D", x) != dur.sub("D", y):
        sys.exit(f"{sys.argv[1]}: more than durations changed:\n  {x}\n  {y}")
EOF
    done
}
tap_check "compress.py --factor 30 changes nothing but durations" only_durations
golden() {
    local in out
    in=$(printf '%s\n' 'for: 1m' '  - for: 5m # why' 'group_wait: 30s' "  repeat_interval: '4h'" \
        'scrape_interval: 15s' 'scrape_timeout: 10s' 'expr: rate(x[5m]) > 0 and max_over_time(y[1h:1m]) offset 3d' \
        'expr: z[90s] / on (a) w[1d] offset -2h' 'labels: {long_window: 1h}' 'summary: over 5m' \
        "code=~\"[45]..\"")
    out=$(python3 stack/local/compress.py --factor 30 --min-interval 1s /dev/stdin <<<"$in")
    local want
    want=$(printf '%s\n' 'for: 2s' '  - for: 10s # why' 'group_wait: 1s' "  repeat_interval: '8m'" \
        'scrape_interval: 1s' 'scrape_timeout: 1s' 'expr: rate(x[10s]) > 0 and max_over_time(y[2m:2s]) offset 2h24m' \
        'expr: z[3s] / on (a) w[48m] offset -4m' 'labels: {long_window: 1h}' 'summary: over 5m' \
        "code=~\"[45]..\"")
    [ "$out" = "$want" ] || { diff <(echo "$want") <(echo "$out"); return 1; }
    [ "$(python3 stack/local/compress.py --factor 7 --duration 1m)" = 8571ms ] || return 1
    ! python3 stack/local/compress.py --factor 30 --duration 5x 2>/dev/null || return 1
    ! python3 stack/local/compress.py --factor 0 --duration 5m 2>/dev/null
}
tap_check "compress.py rewrites keys, ranges, subqueries and offsets exactly, and only those" golden

tap_finish
