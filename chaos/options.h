/*
 * options: the command line of `chaos run EXPERIMENT... [options]` — the usage text, the parsing
 * with range checks (common/flag_value), the experiments (built-in names, or experiment files,
 * each aimed at the service of --service FILE or --service-cmd when given), and the checks that
 * options that go together were given together. Errors come back as one sentence; nothing here
 * prints them. Its names carry a chaos_ prefix because loadgen, linked into the same binaries, has
 * options_*.
 */
#ifndef CHAOS_OPTIONS_H
#define CHAOS_OPTIONS_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "experiment.h"
#include "listen_addr.h"
#include "scenarios.h"

#define CHAOS_OPTIONS_MAX_SCENARIOS 32

struct chaos_options {
    struct experiment_options o;
    const struct scenario *scenarios[CHAOS_OPTIONS_MAX_SCENARIOS]; /* each once, in order */
    size_t nscenarios;
    struct scenario *owned[CHAOS_OPTIONS_MAX_SCENARIOS]; /* those read for this run */
    size_t nowned;
    const char *service_file;                              /* --service FILE */
    const char *service_cmd, *live, *ready, *metrics_path; /* --service-cmd and its probes */
    char *service_text; /* the service source, read or made from flags */
    char *service_dir;
    const char *work_dir, *journal, *html, *webhook_listen; /* journal, html, webhook: NULL */
    struct listen_addr webhook_addr;                        /* --webhook-listen, parsed */
    char taskd_default[PATH_MAX];                           /* taskd beside the chaos binary */
    size_t nargs;                                           /* --taskd-arg values in o.taskd_args */
    int dry_run;
    int table; /* --table */
};

/* Prints the usage text. */
void chaos_options_usage(FILE *out);

enum chaos_options_result { CHAOS_OPTIONS_OK, CHAOS_OPTIONS_EXIT_OK = 1, CHAOS_OPTIONS_ERROR = -1 };

/* Parses `run ...` (argv[0] is "run") into c, filling the defaults first, reads the
 * experiments, and checks that the taskd to start can be run. CHAOS_OPTIONS_EXIT_OK after --help or
 * --version (printed on stdout); CHAOS_OPTIONS_ERROR with one sentence in err (common/flag_value's
 * style for values), which the caller prints after "chaos: ". Strings point into argv. */
enum chaos_options_result chaos_options_parse(struct chaos_options *c, int argc, char **argv,
                                              char *err, size_t errlen);

/* Frees what parsing read (experiment files, the service source). */
void chaos_options_free(struct chaos_options *c);

#endif
