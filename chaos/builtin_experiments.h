/*
 * builtin_experiments: the experiments that ship with chaos. They are the files of
 * chaos/experiments/, compiled into chaos, so `chaos run NAME` needs no file and
 * `chaos run chaos/experiments/NAME.json` runs the very same experiment. They are parsed once,
 * on first use, and live until exit.
 */
#ifndef CHAOS_BUILTIN_EXPERIMENTS_H
#define CHAOS_BUILTIN_EXPERIMENTS_H

#include <stddef.h>

#include "scenarios.h"

/* The built-in experiments, in name order. */
size_t builtin_experiments_count(void);
const struct scenario *builtin_experiment_at(size_t i);           /* NULL past the end */
const struct scenario *builtin_experiment_find(const char *name); /* NULL when unknown */

/* The text of the built-in experiment `name` (NULL when unknown) and its length. */
const char *builtin_experiment_text(const char *name, size_t *len);

#endif
