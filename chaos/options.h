/*
 * options: the command line of `chaos run SCENARIO... [options]` — the usage text, the parsing
 * with range checks, and the checks that options that go together were given together. Its
 * names carry a chaos_ prefix because loadgen, linked into the same binaries, has options_*.
 */
#ifndef CHAOS_OPTIONS_H
#define CHAOS_OPTIONS_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "experiment.h"
#include "scenarios.h"

#define CHAOS_OPTIONS_MAX_SCENARIOS 32

struct chaos_options {
    struct experiment_options o;
    const struct scenario *scenarios[CHAOS_OPTIONS_MAX_SCENARIOS]; /* each once, in order */
    size_t nscenarios;
    const char *work_dir, *journal, *html, *webhook_listen; /* journal, html, webhook: NULL */
    char taskd_default[PATH_MAX];                           /* taskd beside the chaos binary */
    size_t nargs;                                           /* --taskd-arg values in o.taskd_args */
    int dry_run;
};

/* Prints the usage text. */
void chaos_options_usage(FILE *out);

/* Parses `run ...` (argv[0] is "run") into c, filling the defaults first. Returns 0, 1 when
 * chaos should exit 0 (--help, --version: already printed), or -1 for a usage error (a
 * sentence already printed on stderr). */
int chaos_options_parse(struct chaos_options *c, int argc, char **argv);

#endif
