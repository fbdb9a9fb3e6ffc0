/*
 * flag_value: the values of command-line flags (and of the environment variables that stand in
 * for them) parsed one way for every binary — durations, sizes, counts, rates, ratios and
 * listen addresses — with range checks and one message style. A refused value gives one
 * sentence that names the flag, repeats the value and says what is accepted:
 *
 *     --threads 'four' is not a whole number from 1 to 256
 *     --idle-timeout '500ms' is not a duration such as 250ms, 30s or 1m (at least 1s)
 *
 * The caller prints it after its own name ("taskd: ", "loadgen: ", "chaos: ") and exits 2.
 * `flag` is the flag's name without its dashes ("threads"). Every function returns 0 and sets
 * *out, or returns -1 with the sentence in `err` and *out untouched.
 */
#ifndef TASKBENCH_FLAG_VALUE_H
#define TASKBENCH_FLAG_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "listen_addr.h"

/* No upper bound for flag_duration() and flag_size(). */
#define FLAG_NO_MAX UINT64_MAX

/* A duration with a unit (common/duration.h: "250ms", "1m30s"; a bare number is refused) from
 * min_ns to max_ns, in nanoseconds. */
int flag_duration(const char *flag, const char *text, uint64_t min_ns, uint64_t max_ns,
                  uint64_t *out, char *err, size_t errlen);

/* A size in bytes: a whole or decimal number with an optional unit — B; KiB, MiB, GiB, TiB (or
 * K, M, G, T, as mount and dd read them: powers of 1024); kB, MB, GB, TB (powers of 1000) — from
 * min to max bytes. "4096", "64KiB", "16M", "1.5GB". */
int flag_size(const char *flag, const char *text, uint64_t min, uint64_t max, uint64_t *out,
              char *err, size_t errlen);

/* A whole number from min to max: decimal digits only (no sign, no spaces, no unit). */
int flag_count(const char *flag, const char *text, uint64_t min, uint64_t max, uint64_t *out,
               char *err, size_t errlen);

/* A rate in events (requests) per second: a decimal number from min to max; with min 0, any
 * rate above 0. */
int flag_rate(const char *flag, const char *text, double min, double max, double *out, char *err,
              size_t errlen);

/* A ratio from 0 to 1, written as a fraction ("0.05") or a percentage ("5%"). */
int flag_ratio(const char *flag, const char *text, double *out, char *err, size_t errlen);

/* A listen address HOST:PORT (common/listen_addr.h: "127.0.0.1:9102", ":9102", "[::1]:0"). */
int flag_addr(const char *flag, const char *text, struct listen_addr *out, char *err,
              size_t errlen);

#endif
