#!/usr/bin/env bash
# deploy/k8s without a cluster: the generated monitoring objects equal what deploy/k8s/generate.sh
# makes of the current stack/prometheus/rules and dashboards/; `kubectl kustomize` renders every
# overlay; every rendered object validates against the Kubernetes OpenAPI schema or the
# prometheus-operator CRD schema (npm packages pinned in deploy/k8s/check), unknown fields refused;
# taskbench's conventions hold (probes, non-root, resources, the database *directory* on a claim,
# monitors that produce job="taskd" and job="loadgen", the Indexed Job's shard count everywhere);
# the rendered PrometheusRules pass `promtool check rules` and the rules' unit tests; and each
# mistake those checks exist for, made in a copy, is caught. TAP; usage: BUILD_DIR.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
tap_skip_under_sanitizer "static checks of manifests; a sanitizer build adds nothing"
tap_workdir k8s
work=$tap_work
overlays=()
for o in deploy/k8s/overlays/*/; do overlays+=("$(basename "$o")"); done

# ---- one source of truth -----------------------------------------------------------------------
if out=$(deploy/k8s/generate.sh "$work/generated" 2>&1) &&
    diff=$(diff -r deploy/k8s/base/monitoring/generated "$work/generated" 2>&1); then
    tap_ok "deploy/k8s/base/monitoring/generated is what generate.sh makes of the current rules and dashboards"
else
    tap_not_ok "deploy/k8s/base/monitoring/generated is what generate.sh makes of the current rules and dashboards" \
        "$(printf '%s\n%s\nthe rules or dashboards changed since the last run of the generator: run make k8s and commit deploy/k8s/base/monitoring/generated' "$out" "${diff:-}" | head -20)"
fi

if ! out=$(scripts/npm_deps.sh deploy/k8s/check 2>&1); then
    tap_not_ok "deploy/k8s/check npm packages installed (npm ci from package-lock.json)" "$out"
    tap_bail "the schema checks cannot run without their packages"
fi
tap_ok "deploy/k8s/check npm packages installed (npm ci from package-lock.json)"

if ! command -v kubectl >/dev/null; then
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - kubectl kustomize renders the overlays # SKIP kubectl is not installed (it is not a Debian 12 package; see docs/kubernetes.md)"
    tap_finish
    exit
fi

# check.mjs prints PASS/FAIL lines; one TAP line each (only those matching $only, when set),
# named after $prefix and the check.
check() {
    local out verdict name problems
    out=$(timeout 120 node deploy/k8s/check/check.mjs "$@" 2>&1)
    if [ -n "${only:-}" ]; then out=$(grep -F -- "$only" <<<"$out"); fi
    if ! grep -q '^PASS\|^FAIL' <<<"$out"; then
        tap_not_ok "check.mjs $1 runs" "$out"
        return
    fi
    while IFS=$'\t' read -r verdict name problems; do
        case "$verdict" in
        PASS) tap_ok "${prefix:-}$name" ;;
        FAIL) tap_not_ok "${prefix:-}$name" "$(tr ';' '\n' <<<"$problems")" ;;
        esac
    done <<<"$out"
}

# ---- every overlay renders and validates ----------------------------------------------------------
for o in "${overlays[@]}"; do
    tap_check "kubectl kustomize renders overlays/$o" \
        sh -c "kubectl kustomize deploy/k8s/overlays/$o >'$work/$o.yaml'"
done
for o in "${overlays[@]}"; do prefix="overlays/$o: " check schema "$work/$o.yaml"; done
for o in "${overlays[@]}"; do prefix="overlays/$o: " check conventions "$work/$o.yaml"; done
# taskd, its monitoring and the load test run in one namespace: the PodMonitor finds the shards.
if [ -f "$work/kind-loadtest.yaml" ]; then
    cat "$work/kind.yaml" <(echo ---) "$work/kind-loadtest.yaml" >"$work/kind+loadtest.yaml"
    only=PodMonitor prefix="overlays/kind with kind-loadtest: " check conventions "$work/kind+loadtest.yaml"
fi

# ---- the PrometheusRules as Prometheus reads them ------------------------------------------------
if command -v promtool >/dev/null; then
    mkdir -p "$work/prom/rules" "$work/prom/tests"
    node deploy/k8s/check/check.mjs rules "$work/kind.yaml" --out "$work/prom/out" >/dev/null
    tap_check "the rendered PrometheusRules pass promtool check rules" \
        promtool check rules "$work/prom/out"/*.yml
    # The rule files' unit tests, run against what the PrometheusRules hold (taskbench-X is X.yml).
    for f in "$work/prom/out"/taskbench-*.yml; do
        b=$(basename "$f")
        cp "$f" "$work/prom/rules/${b#taskbench-}"
    done
    cp stack/prometheus/tests/*.yml "$work/prom/tests/"
    tap_check "the rule files' promtool unit tests pass against the rendered PrometheusRules" \
        promtool test rules "$work/prom/tests"/*.yml
else
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - the rendered PrometheusRules pass promtool # SKIP promtool is not installed (make deps)"
fi

# ---- negative cases: each mistake, made in a copy of a rendered overlay, is caught --------------
# expect_fail NAME SED-EXPRESSION COMMAND MESSAGE: the edited copy fails COMMAND with MESSAGE.
expect_fail() {
    local name=$1 edit=$2 command=$3 message=$4 out
    sed -e "$edit" "$work/kind.yaml" >"$work/bad.yaml"
    out=$(node deploy/k8s/check/check.mjs "$command" "$work/bad.yaml" 2>&1)
    if [ $? -eq 1 ] && grep '^FAIL' <<<"$out" | grep -qF -- "$message"; then
        tap_ok "$name"
    else
        tap_not_ok "$name" "$(grep '^FAIL' <<<"$out" || echo "$out")"
    fi
}
expect_fail "a misspelt field (livenesProbe) is refused as unknown" \
    's/livenessProbe:/livenesProbe:/' schema "/spec/template/spec/containers/0/livenesProbe is not a field of StatefulSet"
expect_fail "a value of the wrong type is refused" \
    's/replicas: 1$/replicas: "1"/' schema "/spec/replicas must be integer"
expect_fail "a monitor's interval that Prometheus cannot parse is refused (CRD schema)" \
    's/interval: 15s/interval: 15 seconds/' schema "/spec/endpoints/0/interval must match pattern"
expect_fail "a volume mounted at the database file itself is refused" \
    's|mountPath: /data$|mountPath: /data/tasks.db|' conventions "a volume is mounted at the database file /data/tasks.db"
expect_fail "a data mount through subPath is refused" \
    's|mountPath: /data$|mountPath: /data\n          subPath: tasks|' conventions "the data mount uses subPath tasks"
expect_fail "readiness on /livez is refused" \
    '/readinessProbe:/,/path:/s|path: /readyz|path: /livez|' conventions "readinessProbe must be an HTTP GET of /readyz"
expect_fail "a ServiceMonitor that would label the job otherwise than the rules expect is refused" \
    's/jobLabel: app.kubernetes.io\/name/jobLabel: app.kubernetes.io\/component/' conventions \
    'the alert rules and dashboards select job="taskd"'
expect_fail "a dashboard edited in its ConfigMap instead of dashboards/ is refused" \
    's/"title": "taskbench \/ RED overview"/"title": "RED"/' conventions \
    "dashboards/red.json is in no dashboard ConfigMap byte for byte"
expect_fail "a rule changed in its PrometheusRule instead of stack/prometheus/rules is refused" \
    's/expr: up{job="taskd"} == 0/expr: up{job="taskd"} < 1/' conventions \
    "stack/prometheus/rules/taskd.yml has no PrometheusRule with the same groups"

# A source changed without running the generator: the first check above catches it.
mkdir -p "$work/tree"
cp -r deploy scripts stack dashboards "$work/tree/" 2>/dev/null
rm -rf "$work/tree/dashboards/validator" "$work/tree/deploy/k8s/check/node_modules"
sed -i 's/"title": "taskbench \/ RED overview"/"title": "RED"/' "$work/tree/dashboards/red.json"
if (cd "$work/tree" && deploy/k8s/generate.sh "$work/regenerated" >/dev/null) &&
    ! diff -rq "$work/tree/deploy/k8s/base/monitoring/generated" "$work/regenerated" >/dev/null &&
    grep -q '"title": "RED"' "$work/regenerated/dashboard-red.yaml"; then
    tap_ok "a dashboard changed without make k8s makes the committed output differ from the generator's"
else
    tap_not_ok "a dashboard changed without make k8s makes the committed output differ from the generator's"
fi

tap_finish
