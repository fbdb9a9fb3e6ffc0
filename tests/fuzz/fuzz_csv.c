/*
 * fuzz_csv: libFuzzer target for loadgen's CSV reader (loadgen/data.c), which reads whatever
 * file a user names with --data. The first byte picks a shard count (1..4); the rest is the
 * file. When it parses, the shards must split its rows exactly (every row in one shard, in
 * order), every value must be the bytes between its delimiters (a length that matches), and
 * every column must be found by its own name. Plain C17, so it builds with gcc for corpus
 * replay as well as with clang -fsanitize=fuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_csv: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned shards = 1 + data[0] % 4;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[512];
    struct data_set *all = NULL;
    if (data_parse(&all, text, len, "fuzz.csv", 0, 1, err, sizeof err) != 0) {
        check(all == NULL && err[0] != '\0');
        return 0;
    }
    size_t rows = data_rows(all), columns = data_columns(all);
    check(rows > 0 && columns > 0 && columns <= DATA_COLUMNS_MAX);
    for (size_t c = 0; c < columns; c++) {
        const char *name = data_column_name(all, c);
        int found = data_column_index(all, name, strlen(name));
        check(found >= 0 && (size_t)found <= c); /* "2" may name the second column first */
    }
    size_t total = 0;
    for (unsigned s = 0; s < shards; s++) {
        struct data_set *part = NULL;
        if (data_parse(&part, text, len, "fuzz.csv", s, shards, err, sizeof err) != 0) {
            check(rows < shards); /* only a shard left without rows is refused */
            total += (rows + shards - 1 - s) / shards;
            continue;
        }
        check(data_columns(part) == columns);
        for (size_t r = 0; r < data_rows(part); r++)
            for (size_t c = 0; c < columns; c++) {
                size_t a_len, b_len;
                const char *a = data_value(part, r, c, &a_len);
                const char *b = data_value(all, s + r * shards, c, &b_len);
                check(a_len == b_len && memcmp(a, b, a_len) == 0 && a[a_len] == '\0');
            }
        total += data_rows(part);
        data_free(part);
    }
    check(total == rows);
    data_free(all);
    return 0;
}
