/*
 * experiment_file: reads an experiment file (JSON, schema "taskbench.chaos.experiment/1",
 * documented in docs/chaos.md) into a scenario — the fault as a mechanism with parameters, the
 * service and how to tell it is alive and ready, the load, the audit, the windows and the
 * expectations — and refuses anything it would have to guess: every member is checked against
 * what it may hold, unknown members included, and the error is one sentence that names the
 * file, the JSON path and what is expected there:
 *
 *     flask.json: $.fault.params.size: expected a size such as 4096, 64KiB or 16M, got "big"
 *
 * A service file (schema "taskbench.chaos.service/1": service, load and audit only) aims any
 * experiment at another service: its sections replace the experiment's (`chaos run --service`).
 * Relative paths in a file (targets files, {file_dir}) are taken from the file's folder.
 */
#ifndef CHAOS_EXPERIMENT_FILE_H
#define CHAOS_EXPERIMENT_FILE_H

#include <stddef.h>

#include "scenarios.h"

#define EXPERIMENT_FILE_SCHEMA "taskbench.chaos.experiment/1"
#define SERVICE_FILE_SCHEMA "taskbench.chaos.service/1"
#define EXPERIMENT_FILE_MAX (1u << 20)

/* The text of one file and where it came from. */
struct experiment_source {
    const char *name; /* for errors: the path as given, or "built-in NAME" */
    const char *dir;  /* the file's folder ({file_dir}, relative paths); NULL for a built-in */
    const char *text;
    size_t len;
};

/* Reads `path` (at most EXPERIMENT_FILE_MAX bytes) into src; the text is malloc'ed into
 * *owned (free it after the build) and src->dir is the file's folder (malloc'ed into
 * *owned_dir). Returns 0, or -1 with a sentence in err. */
int experiment_file_read(const char *path, struct experiment_source *src, char **owned,
                         char **owned_dir, char *err, size_t errlen);

/* Builds a scenario from an experiment file, with the service, load and audit of `service`
 * (a service file or another experiment file; NULL: the experiment's own) when given. Returns
 * the scenario (free it with scenario_free), or NULL with one sentence in err. */
struct scenario *experiment_file_build(const struct experiment_source *exp,
                                       const struct experiment_source *service, char *err,
                                       size_t errlen);

/* Checks a service file on its own (the schema and its sections). Returns 0, or -1 with err. */
int experiment_file_check_service(const struct experiment_source *service, char *err,
                                  size_t errlen);

#endif
