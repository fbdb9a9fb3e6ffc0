/*
 * report_json: a run's results as versioned JSON (schema "taskbench.loadgen.result", version 2,
 * documented in docs/loadgen-json.md), and the reader that turns such a file back into the
 * exact struct lg_results it was written from: histograms travel as sparse [index, count]
 * pairs with their count, min, max and sum, so `loadgen merge` of files equals merging in
 * memory. Summary figures (percentiles, rates, ratios) are written for readers and ignored
 * when reading: they are recomputed from the histograms and counts.
 */
#ifndef LOADGEN_REPORT_JSON_H
#define LOADGEN_REPORT_JSON_H

#include <stddef.h>

#include "buf.h"
#include "results.h"
#include "threshold.h"

#define REPORT_SCHEMA "taskbench.loadgen.result"
#define REPORT_JSON_LIMIT ((size_t)256 << 20) /* the largest result written or read: 256 MiB */
#define REPORT_TARGET_MAX 2048

/* What the results do not say about a run: what it was aimed at and how. */
struct report_meta {
    char target[REPORT_TARGET_MAX]; /* the base URL (tasks) or the URL (raw) */
    char mode[8];                   /* "tasks", "raw" or "targets" */
    char tool_version[64];          /* read back from a file; written as taskbench_version() */
};

/* Fills meta. Returns 0, or -1 when the target is longer than REPORT_TARGET_MAX - 1 bytes or
 * mode is not "tasks", "raw" or "targets" (meta is then unchanged). */
int report_meta_set(struct report_meta *meta, const char *target, const char *mode);

/* Appends the JSON document (one line and a newline) to out. th: nth threshold outcomes for
 * the "thresholds" array (may be NULL when nth is 0). Returns 0, or -1 when out's limit or
 * memory ran out (out then holds a truncated document). */
int report_json_render(const struct lg_results *r, const struct report_meta *meta,
                       const struct threshold_result *th, size_t nth, struct buf *out);

/* Renders and writes the document to path ("-": standard output). Returns 0, or -1 with a
 * sentence in err. */
int report_json_write_file(const char *path, const struct lg_results *r,
                           const struct report_meta *meta, const struct threshold_result *th,
                           size_t nth, char *err, size_t errlen);

/* Reads a document written by report_json_render() into out (results_init'ed here; free it
 * with results_free() whatever the outcome) and meta_out (may be NULL). Returns 0, or -1 with a
 * sentence in err: not JSON, another schema, another version or histogram layout, a field
 * missing or of the wrong type (named by its path, e.g. routes[0].by_class[1].count). */
int report_json_parse(const char *text, size_t len, struct lg_results *out,
                      struct report_meta *meta_out, char *err, size_t errlen);

/* report_json_parse() of a file; errors name the file. */
int report_json_read_file(const char *path, struct lg_results *out, struct report_meta *meta_out,
                          char *err, size_t errlen);

#endif
