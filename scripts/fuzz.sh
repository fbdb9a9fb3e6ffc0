#!/usr/bin/env bash
# make fuzz / scripts/fuzz.sh SECONDS: coverage-guided fuzzing of tests/fuzz/fuzz_request.c.
# Builds the libFuzzer binary (clang, ASan + UBSan) under build/fuzz/, fuzzes a scratch copy of
# the committed corpus for SECONDS, then merges only the inputs that add coverage back into
# tests/fuzz/corpus/request with -merge=1, so the corpus grows without duplicates. A crash
# leaves its input in tests/fuzz/ as crash-* (git-ignored) and makes this script fail.
set -eu
seconds=${1:?usage: scripts/fuzz.sh SECONDS}
cd "$(dirname "$0")/.."

corpus=tests/fuzz/corpus/request
bin=build/fuzz/fuzz_request
mkdir -p build/fuzz "$corpus"

# Only the modules the target reaches: request parsing needs no SQLite or libmicrohttpd.
sources=(common/buf.c common/utf8.c common/json_writer.c service/routes.c service/task.c)
cjson_cflags=$(pkg-config --cflags libcjson 2>/dev/null || echo -I/usr/include/cjson)
cjson_libs=$(pkg-config --libs libcjson 2>/dev/null || echo -lcjson)
# shellcheck disable=SC2086 # the pkg-config output is a list of flags
clang -g -O1 -std=c17 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -Icommon -Iservice $cjson_cflags \
    tests/fuzz/fuzz_request.c "${sources[@]}" $cjson_libs -lm -o "$bin"

scratch=$(mktemp -d build/fuzz/scratch.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
cp -R "$corpus"/. "$scratch"/

echo "fuzz: running $bin for ${seconds}s on a copy of $corpus"
"$bin" -max_total_time="$seconds" -dict=tests/fuzz/request.dict -max_len=8192 \
    -artifact_prefix=tests/fuzz/ -print_final_stats=1 "$scratch"

before=$(find "$corpus" -type f | wc -l)
"$bin" -merge=1 -max_len=8192 "$corpus" "$scratch"
after=$(find "$corpus" -type f | wc -l)
echo "fuzz: $corpus has $after inputs ($((after - before)) new)"
