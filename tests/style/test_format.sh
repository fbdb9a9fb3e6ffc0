#!/usr/bin/env bash
# Every C file of the modules and the tests is as clang-format writes it with the repository's
# .clang-format (make format-check), so CI (.ci/run runs make test) fails on unformatted code.
# Fix with `make format`. Usage: tests/style/test_format.sh BUILD_DIR. Prints TAP.
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
tap_skip_under_sanitizer "formatting does not depend on the build flavour"
tap_skip_without clang-format
tap_check "every C file is formatted as .clang-format says (make format fixes it)" \
    make -s --no-print-directory format-check
tap_finish
