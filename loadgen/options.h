/*
 * options: loadgen's command line for a load run, parsed into an engine configuration plus
 * what to do with the results. Every value is checked here, so a typo stops loadgen before
 * any request with one sentence naming the flag, the value and the rule.
 */
#ifndef LOADGEN_OPTIONS_H
#define LOADGEN_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "engine.h"
#include "listen_addr.h"

#define OPTIONS_MAX_THRESHOLDS 32

struct loadgen_options {
    struct engine_config engine;
    const char *json_path, *html_path, *ledger_path;
    const char *requests_out_path;   /* --requests-out */
    const char *metrics_listen;      /* --metrics-listen as given (NULL: none) */
    struct listen_addr metrics_addr; /* ... parsed */
    uint64_t metrics_linger_ns; /* keep serving /metrics this long after the run (final scrape) */
    struct resource_api api;    /* --api, --id-from, --item-url (engine.workload.api points here) */
    const char *thresholds[OPTIONS_MAX_THRESHOLDS];
    size_t nthresholds;
    int quiet;       /* no summary on stdout */
    int no_progress; /* no live line even on a terminal */
    int shard_flags; /* --shard and --shards given (at most one of them, once) */
};

enum options_result { OPTIONS_OK, OPTIONS_EXIT_OK, OPTIONS_ERROR };

/* Parses argv (after the program name). Strings point into argv. */
enum options_result options_parse(struct loadgen_options *o, int argc, char **argv, char *err,
                                  size_t errlen);

void options_usage(FILE *out);

#endif
