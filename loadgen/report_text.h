/*
 * report_text: the human summary of a run, printed when it ends (wrk's and vegeta's habit,
 * said more plainly): what was targeted and how, achieved against target rate — with a loud
 * line when the target could not keep up — errors, status codes, and per-route latency of the
 * corrected view, then the whole run's corrected, service and lag percentiles.
 */
#ifndef LOADGEN_REPORT_TEXT_H
#define LOADGEN_REPORT_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report_json.h"
#include "results.h"

/* 1 when the run fell short of its target rate: achieved below 99 % of target, or requests
 * left not started. Always 0 in the closed model without not-started requests. */
int report_text_target_missed(const struct lg_results *r);

/* Writes the summary to f. Returns 0, or -1 when writing failed. */
int report_text_write(FILE *f, const struct lg_results *r, const struct report_meta *meta);

#endif
