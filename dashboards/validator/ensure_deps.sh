#!/usr/bin/env bash
# Makes sure the validator's npm packages (PromQL/LogQL grammars, YAML, JSON schema) are installed
# in dashboards/validator/node_modules, exactly as package-lock.json pins them (see
# scripts/npm_deps.sh). Used by tests/stack/*.sh; safe to run by hand.
exec "$(dirname "$0")/../../scripts/npm_deps.sh" "$(dirname "$0")"
