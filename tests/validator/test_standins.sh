#!/usr/bin/env bash
# The validator's stand-ins on their own, against known values (node:test files beside this
# script): Grafana's step, $__interval, $__rate_interval and $__auto (grafana_time.test.mjs), the
# LogQL evaluator that stands in for Loki (logql_eval.test.mjs), and the truth side's PromQL over
# intervals, which must agree point for point with a real Prometheus on exact inputs
# (promql_bounds.test.mjs). TAP on stdout; usage: tests/validator/test_standins.sh BUILD_DIR.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
tap_skip_under_sanitizer "JavaScript only: the sanitizer build adds nothing"
tap_skip_without node prometheus promtool
if ! out=$(dashboards/validator/ensure_deps.sh 2>&1); then
    tap_bail "the validator's npm packages are not installed: $out"
fi
# node --test numbers the tests of every file in one plan; a failure's diagnostics are indented.
timeout 300 node --test --test-reporter=tap tests/validator/*.test.mjs 2>&1 |
    grep -vE '^(TAP version|# Subtest|# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) )|^  (---|\.\.\.|duration_ms:)'
exit "${PIPESTATUS[0]}"
