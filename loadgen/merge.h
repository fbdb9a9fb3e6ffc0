/*
 * merge: `loadgen merge A.json B.json …` — several results as one run that did them all.
 *
 * Results from shards (--shard i/N on N machines) or from runs side by side combine exactly:
 * histograms add bucket for bucket, so the merged percentiles are those a single recorder
 * would have measured. Rates, connections and threads add; the series aligns by wall clock.
 */
#ifndef LOADGEN_MERGE_H
#define LOADGEN_MERGE_H

#include <stddef.h>

#include "report_json.h"
#include "results.h"

/* Reads paths[0..n) (loadgen JSON results) and merges them into out (free it with results_free()
 * whatever the outcome) and meta (the first file's target and mode; may be NULL). The files must
 * share the schema version, histogram layout, workload mode and load model; their targets may
 * differ (say, one load balancer's name per machine) and the first one is kept. Returns 0, or -1
 * with a sentence in err naming the file at fault. */
int merge_files(const char *const *paths, size_t n, struct lg_results *out,
                struct report_meta *meta, char *err, size_t errlen);

#endif
