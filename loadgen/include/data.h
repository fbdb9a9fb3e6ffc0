/*
 * data: the rows of a CSV file (`--data rows.csv`) that templates read as {{data.COLUMN}}.
 *
 * The file is read whole at start: RFC 4180 (fields separated by commas, optionally in double
 * quotes, "" for a quote inside quotes, line breaks inside quotes kept), CRLF or LF line ends, a
 * UTF-8 byte-order mark ignored, blank lines skipped. The first row names the columns. Every
 * value lives in one block of memory, NUL-terminated, so rendering a field is one memcpy.
 * With shards (`--shard I/N`) a set keeps only the rows whose index (from 0, header excluded)
 * is I-1 modulo N, so the shards of a run use disjoint rows.
 */
#ifndef LOADGEN_DATA_H
#define LOADGEN_DATA_H

#include <stddef.h>

#define DATA_FILE_MAX ((size_t)1 << 30) /* the largest CSV file read: 1 GiB */
#define DATA_COLUMNS_MAX 1024

struct data_set;

/* Parses CSV text. `name` (the file's name) only serves error messages. shard_count 0 or 1 keeps
 * every row. Returns 0 and a set to free with data_free(), or -1 with one sentence in err naming
 * the line: a quote left open, a row with more or fewer fields than the header, an empty or
 * repeated column name, a NUL byte, no data row (or none left for this shard). */
int data_parse(struct data_set **out, const char *text, size_t len, const char *name,
               unsigned shard_index, unsigned shard_count, char *err, size_t errlen);

/* data_parse() of a file (at most DATA_FILE_MAX bytes). */
int data_load_file(struct data_set **out, const char *path, unsigned shard_index,
                   unsigned shard_count, char *err, size_t errlen);

void data_free(struct data_set *d); /* accepts NULL */

const char *data_name(const struct data_set *d); /* the name given to data_parse() */
size_t data_rows(const struct data_set *d);      /* rows kept (this shard's) */
size_t data_columns(const struct data_set *d);
const char *data_column_name(const struct data_set *d, size_t col);

/* The column called name[0..len), or, when no column has that name, the column numbered so
 * (1 = the first). -1 when neither. */
int data_column_index(const struct data_set *d, const char *name, size_t len);

/* The value at (row, col), both in range; *len gets its length. */
const char *data_value(const struct data_set *d, size_t row, size_t col, size_t *len);

#endif
