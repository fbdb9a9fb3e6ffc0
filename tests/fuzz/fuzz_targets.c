/*
 * fuzz_targets: libFuzzer target for loadgen's targets files (loadgen/targets.c): vegeta's HTTP
 * format with loadgen's directives, and JSON lines. The input is the file. When it parses and
 * compiles: every target has a valid, unique name, a method, an origin among the set's and a
 * request-target that starts with '/', and a pick always lands on a target with a weight.
 * Inputs naming body files by absolute path are skipped (a fuzzer must not read /dev/zero);
 * relative ones resolve in a folder that does not exist. Plain C17, so it builds with gcc for
 * corpus replay as well as with clang -fsanitize=fuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_targets: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char rows[] = "id,email\n1,a@example.com\n2,b@example.com\n";

/* "@/…" or a "body_file" member could name any file of the machine. */
static int names_a_file(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 1 < size; i++)
        if (data[i] == '@' && data[i + 1] == '/')
            return 1;
    for (size_t i = 0; i + 9 <= size; i++)
        if (!memcmp(data + i, "body_file", 9))
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct data_set *d;
    char err[1024];
    if (names_a_file(data, size))
        return 0;
    if (!d && data_parse(&d, rows, sizeof rows - 1, "rows.csv", 0, 1, err, sizeof err) != 0)
        abort();
    struct target_set set;
    targets_init(&set);
    if (targets_parse(&set, (const char *)data, size, "fuzz.txt", "http://127.0.0.1:8080/base",
                      "/nonexistent-fuzz-dir", err, sizeof err) != 0) {
        check(set.n == 0 && err[0] != '\0');
        targets_free(&set);
        return 0;
    }
    check(set.n > 0 && set.n <= TARGETS_MAX);
    for (size_t i = 0; i < set.n; i++) {
        const struct target *t = &set.items[i];
        check(targets_name_valid(t->name));
        check(targets_find(&set, t->name) == (int)i);
        check(t->method[0] != '\0' && t->path_text[0] == '/');
        check(!strncmp(t->origin, "http://", 7) || !strncmp(t->origin, "https://", 8));
    }
    if (targets_compile(&set, d, err, sizeof err) == 0) {
        check(set.norigins >= 1 && set.norigins <= set.n);
        for (size_t i = 0; i < set.n; i++)
            check(set.items[i].origin_index < set.norigins);
        for (uint64_t r = 0; r < 64; r++) {
            size_t pick = targets_pick(&set, r * 0x9E3779B97F4A7C15ull);
            check(pick < set.n && set.items[pick].weight > 0);
        }
    }
    targets_free(&set);
    return 0;
}
