#!/usr/bin/env bash
# Unit tests of the validator's modules (tests/validator/unit/*.test.mjs, Node's own test runner):
# positions and substitution, what PromQL means, units, the dashboard model, datasources, the
# stand-ins for Grafana (grafana_time) and Loki (logql_eval), the truth side's PromQL (promql_bounds),
# variables, the report and the lie suite's edits. Each test is one TAP line here.
# TAP; usage: tests/validator/test_modules.sh BUILD_DIR.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
tap_skip_under_sanitizer "the validator is Node.js: the sanitizer build changes nothing in it"
tap_skip_without node
out=$(dashboards/validator/ensure_deps.sh 2>&1) || tap_bail "the validator's packages are not installed: $out"
for f in tests/validator/unit/*.test.mjs; do
    name=$(basename "$f" .test.mjs)
    out=$(timeout 60 node --test-reporter=tap "$f" 2>&1)
    rc=$?
    lines=$(grep -E '^(not )?ok [0-9]+ - ' <<<"$out")
    [ -n "$lines" ] || { tap_not_ok "$name: its tests ran (exit $rc)" "$out"; continue; }
    while IFS= read -r line; do
        title=${line#* - }
        if [[ "$line" == ok* ]]; then
            tap_ok "$name: $title"
        else
            # the failure's YAML block follows its line in node's output
            tap_not_ok "$name: $title" "$(awk -v t="$line" '$0 == t { on = 1; next } on && /^(not )?ok [0-9]+ - / { exit } on' <<<"$out" | grep -v '^    [A-Za-z]*\.' | head -30)"
        fi
    done <<<"$lines"
done
tap_finish
