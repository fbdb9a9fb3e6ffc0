#!/usr/bin/env bash
# make fuzz / scripts/fuzz.sh SECONDS: coverage-guided fuzzing of tests/fuzz/fuzz_request.c
# (taskd's request parsing), tests/fuzz/fuzz_http1.c (loadgen's response parser), loadgen's
# workload parsers (fuzz_targets.c, fuzz_template.c, fuzz_csv.c) and the audit's (fuzz_id_template.c:
# resource URL templates and Link headers; fuzz_json_pointer.c: JSON Pointers and list pages),
# each for SECONDS. FUZZ_ONLY="targets csv" fuzzes only the targets named.
# Builds each libFuzzer binary (clang, ASan + UBSan) under build/fuzz/, fuzzes a scratch copy of
# its committed corpus for SECONDS, then merges only the inputs that add coverage back into
# tests/fuzz/corpus/NAME with -merge=1, so the corpus grows without duplicates. A crash
# leaves its input in tests/fuzz/ as crash-* (git-ignored) and makes this script fail.
set -eu
seconds=${1:?usage: scripts/fuzz.sh SECONDS}
cd "$(dirname "$0")/.."
mkdir -p build/fuzz
cjson_cflags=$(pkg-config --cflags libcjson 2>/dev/null || echo -I/usr/include/cjson)
cjson_libs=$(pkg-config --libs libcjson libcurl 2>/dev/null || echo -lcjson -lcurl)

# fuzz NAME MAX_LEN SOURCES...: builds tests/fuzz/fuzz_NAME.c with the modules it reaches, fuzzes
# a copy of tests/fuzz/corpus/NAME for the time given, and merges new coverage back.
fuzz() {
    local name=$1 max_len=$2
    shift 2
    if [ -n "${FUZZ_ONLY:-}" ] && [[ " $FUZZ_ONLY " != *" $name "* ]]; then
        return 0
    fi
    local corpus=tests/fuzz/corpus/$name bin=build/fuzz/fuzz_$name dict=tests/fuzz/$name.dict
    mkdir -p "$corpus"
    # shellcheck disable=SC2086 # the pkg-config output is a list of flags
    clang -g -O1 -std=c17 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=undefined -Icommon -Iservice -Iloadgen -Iloadgen/include $cjson_cflags \
        "tests/fuzz/fuzz_$name.c" "$@" $cjson_libs -lm -o "$bin"
    local scratch
    scratch=$(mktemp -d build/fuzz/scratch.XXXXXX)
    cp -R "$corpus"/. "$scratch"/
    local dict_arg=()
    [ -f "$dict" ] && dict_arg=(-dict="$dict")
    echo "fuzz: running $bin for ${seconds}s on a copy of $corpus"
    "$bin" -max_total_time="$seconds" "${dict_arg[@]}" -max_len="$max_len" \
        -artifact_prefix=tests/fuzz/ -print_final_stats=1 "$scratch"
    local before after
    before=$(find "$corpus" -type f | wc -l)
    "$bin" -merge=1 -max_len="$max_len" "$corpus" "$scratch"
    after=$(find "$corpus" -type f | wc -l)
    rm -rf "$scratch"
    echo "fuzz: $corpus has $after inputs ($((after - before)) new)"
}

# Only the modules each target reaches: request parsing needs no SQLite or libmicrohttpd.
fuzz request 8192 common/buf.c common/utf8.c common/json_writer.c service/routes.c service/task.c
fuzz http1 16384 loadgen/http1.c common/buf.c
fuzz csv 65536 loadgen/data.c common/buf.c
fuzz template 4096 loadgen/template.c loadgen/data.c common/buf.c common/json_writer.c common/utf8.c
fuzz targets 16384 loadgen/targets.c loadgen/template.c loadgen/data.c loadgen/expect.c \
    common/buf.c common/json_writer.c common/utf8.c
fuzz id_template 4096 loadgen/id_template.c loadgen/link_header.c common/buf.c
fuzz json_pointer 16384 common/json_pointer.c common/buf.c loadgen/resource_api.c \
    loadgen/id_template.c loadgen/link_header.c
