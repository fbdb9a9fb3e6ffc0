#!/usr/bin/env bash
# The compose stack without Docker (no engine on the build machines): every check of
# dashboards/validator/check_stack.mjs passes on stack/docker-compose.yml and the configs it mounts
# (Compose JSON schema, data directory not file, pinned images, references, ports, Alloy, Loki,
# Grafana provisioning); each mistake those checks exist for, made in a temporary copy, is caught;
# and the image's entrypoint check (stack/taskd/entrypoint.sh) runs for real. TAP; usage: BUILD_DIR.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:-build}
tap_skip_under_sanitizer "static checks of configuration files; a sanitizer build adds nothing"
tap_workdir compose
work=$tap_work

if out=$(dashboards/validator/ensure_deps.sh 2>&1); then
    tap_ok "validator npm packages installed (npm ci from package-lock.json)"
else
    tap_not_ok "validator npm packages installed (npm ci from package-lock.json)" "$out"
    tap_bail "the checks cannot run without their packages"
fi

check_stack() {
    timeout 60 node dashboards/validator/check_stack.mjs "$@" 2>&1
}

# ---- the real files: one TAP line per check ---------------------------------------------------
out=$(check_stack)
rc=$?
if [ $rc -eq 2 ] || ! grep -q '^PASS\|^FAIL' <<<"$out"; then
    tap_not_ok "check_stack.mjs runs" "$out"
fi
while IFS=$'\t' read -r verdict name problems; do
    case "$verdict" in
    PASS) tap_ok "$name" ;;
    FAIL) tap_not_ok "$name" "$(tr ';' '\n' <<<"$problems")" ;;
    esac
done <<<"$out"

# ---- negative cases: a mistake made in a temporary copy of the compose file is caught ----------
# mutate JS: writes $work/compose.yml, stack/docker-compose.yml with JS applied to `c`.
mutate() {
    node -e '
        const yaml = require(process.argv[1] + "/dashboards/validator/node_modules/yaml");
        const fs = require("fs");
        const c = yaml.parse(fs.readFileSync(process.argv[1] + "/stack/docker-compose.yml", "utf8"));
        const vol = (svc, target) => c.services[svc].volumes.find((v) => v.target === target);
        eval(process.argv[2]);
        fs.writeFileSync(process.argv[3], yaml.stringify(c));
    ' "$root" "$1" "$work/compose.yml"
}
# expect_fail NAME CHECK-PREFIX MESSAGE [FAILS]: the check whose name starts with CHECK-PREFIX
# fails, saying MESSAGE, and FAILS checks fail in all (default 1: every other check passes).
expect_fail() {
    local name=$1 check=$2 message=$3 want=${4:-1} out rc fails
    out=$(check_stack --compose "$work/compose.yml" --project-dir stack)
    rc=$?
    fails=$(grep -c '^FAIL' <<<"$out")
    if [ $rc -eq 1 ] && [ "$fails" -eq "$want" ] && grep -F "FAIL	$check" <<<"$out" | grep -qF -- "$message"; then
        tap_ok "$name"
    else
        tap_not_ok "$name (exit $rc, $fails checks failed)" "$(grep '^FAIL' <<<"$out")"
    fi
}

mutate 'c.services.taskd.volumes[0] = "./data/tasks.db:/data/tasks.db";'
expect_fail "a bind mount of the database file is refused" "the database directory" \
    "taskd mounts the database file itself (./data/tasks.db -> /data/tasks.db)"

mutate 'c.services.taskd.volumes[0] = "./data:/data";'
expect_fail "the short volume syntax for the data directory is refused" "the database directory" \
    "uses the short volume syntax, which silently creates a missing host path"

mutate 'c.services.prometheus.image = "prom/prometheus:latest";'
expect_fail "an image on :latest is refused" "every image is pinned" \
    "prometheus: image prom/prometheus:latest is not pinned to a version"

mutate 'c.services.loki.image = "grafana/loki";'
expect_fail "an image without a tag is refused" "every image is pinned" \
    "loki: image grafana/loki has no tag"

mutate 'c.services.grafana.depends_on.tempo = { condition: "service_started" };'
expect_fail "depends_on a service that does not exist is refused" "every service that depends_on" \
    'grafana refers to service "tempo", which the file does not define'

mutate 'c.services.loki.command = ["-config.file=/etc/loki/local-config.yml"];'
expect_fail "a config file that is not in the repository is refused" "every file a service is told to read" \
    "loki reads /etc/loki/local-config.yml, mounted from stack/loki/local-config.yml, which does not exist" 2

mutate 'c.services.taskd.helthcheck = c.services.taskd.healthcheck; delete c.services.taskd.healthcheck;'
expect_fail "a key the Compose schema does not know (a typo) is refused" "compose file validates" \
    "/services/taskd must NOT have additional properties (helthcheck)" 2

mutate 'c.services.taskd.environment.TASKD_LISTEN = "0.0.0.0:5001";'
expect_fail "Prometheus scraping a port taskd does not listen on is refused" "ports agree" \
    "targets taskd:5000, but taskd listens on 5001"

mutate 'c.services.grafana.volumes = c.services.grafana.volumes.filter((v) => !String(v.source).endsWith("logs.json"));'
expect_fail "a dashboard that Grafana would not load is refused" "Grafana:" \
    "dashboards/logs.json is not mounted into any provider path"

mkdir -p "$work/alloy"
sed -e 's/^      level = "",$/      level = "",\n      request_id = "",/' \
    -e 's/loki.write.loki.receiver/loki.write.default.receiver/' stack/alloy/config.alloy >"$work/alloy/config.alloy"
mutate "vol('alloy', '/etc/alloy').source = '$work/alloy';"
out=$(check_stack --compose "$work/compose.yml" --project-dir stack)
alloy=$(grep -F 'FAIL	Alloy:' <<<"$out")
if [ "$(grep -c '^FAIL' <<<"$out")" -eq 1 ] &&
    grep -qF 'loki.write.default.receiver refers to loki.write "default", which the config does not define' <<<"$alloy" &&
    grep -qF 'streams get labels request_id besides job and level' <<<"$alloy"; then
    tap_ok "an Alloy config with a dangling reference and a high-cardinality label is refused"
else
    tap_not_ok "an Alloy config with a dangling reference and a high-cardinality label is refused" "$out"
fi

# ---- the image's entrypoint check, run for real ------------------------------------------------
ep=stack/taskd/entrypoint.sh
taskd=${TASKD_BIN:-$root/$build/bin/taskd}
mkdir -p "$work/data/tasks.db" "$work/ok"
out=$(TASKD_DB="$work/data/tasks.db" "$ep" taskd 2>&1)
rc=$?
if [ $rc -eq 78 ] && grep -qF "the database path $work/data/tasks.db is a directory (a Docker bind mount of a missing host file creates one" <<<"$out"; then
    tap_ok "entrypoint: a directory at the database path stops the start with the bind-mount explanation (exit 78)"
else
    tap_not_ok "entrypoint: a directory at the database path stops the start with the bind-mount explanation (exit $rc)" "$out"
fi
mkfifo "$work/ok/fifo.db"
out=$(TASKD_DB="$work/ok/new.db" "$ep" taskd --db "$work/ok/fifo.db" 2>&1)
rc=$?
if [ $rc -eq 78 ] && grep -qF "the database path $work/ok/fifo.db exists but is not a regular file" <<<"$out"; then
    tap_ok "entrypoint: --db on the command line wins over TASKD_DB, and a non-regular file is refused"
else
    tap_not_ok "entrypoint: --db on the command line wins over TASKD_DB, and a non-regular file is refused (exit $rc)" "$out"
fi
out=$(TASKD_DB="$work/missing-dir/tasks.db" "$ep" 2>&1)
rc=$?
if [ $rc -eq 78 ] && grep -qF "the directory $work/missing-dir of the database path" <<<"$out"; then
    tap_ok "entrypoint: a missing data directory is named (no mount at all)"
else
    tap_not_ok "entrypoint: a missing data directory is named (no mount at all) (exit $rc)" "$out"
fi
if [ -x "$taskd" ]; then
    mkdir -p "$work/bin"
    ln -s "$taskd" "$work/bin/taskd"
    PATH="$work/bin:$PATH" TASKD_DB="$work/ok/tasks.db" TASKD_LISTEN=127.0.0.1:0 \
        TASKD_LOG_FILE="$work/ok/taskd.log" "$ep" --port-file "$work/ok/port" &
    pid=$!
    tap_pids+=("$pid")
    for _ in $(seq 100); do [ -s "$work/ok/port" ] && break; sleep 0.05; done
    if [ -s "$work/ok/port" ] && curl -sf "http://127.0.0.1:$(cat "$work/ok/port")/readyz" >/dev/null; then
        tap_ok "entrypoint: with a good path it execs taskd with the options given (ready on its port)"
    else
        tap_not_ok "entrypoint: with a good path it execs taskd with the options given" "$(cat "$work/ok/taskd.log" 2>/dev/null)"
    fi
    tap_stop "$pid"
else
    tap_not_ok "entrypoint: with a good path it execs taskd (no taskd binary at $taskd)"
fi

tap_finish
