/*
 * workdir: the one directory chaos touches (--work-dir). It is made if missing, resolved to
 * its realpath (never "/"), locked for one chaos run at a time, and holds one fresh directory
 * per experiment, WORK/SCENARIO. chaos removes an old experiment directory only when a marker
 * file says chaos made it, so a mistyped --work-dir cannot cost the user their files.
 */
#ifndef CHAOS_WORKDIR_H
#define CHAOS_WORKDIR_H

#include <stddef.h>

/* The marker file in every experiment directory chaos made. */
#define WORKDIR_MARKER ".chaos-experiment"

/* mkdir -p of `path` (not when dry_run), then its realpath into `real` (cap >= PATH_MAX).
 * In a dry run a missing directory resolves to the absolute path it would get. Returns 0, or -1
 * with a sentence in err. */
int workdir_resolve(const char *path, int dry_run, char *real, size_t cap, char *err,
                    size_t errlen);

/* Takes the work directory's lock for the life of the process (a second chaos run would remove
 * the first one's experiment directories). Returns 0, or -1 with a sentence in err (another run
 * holds it, or the lock file cannot be made). */
int workdir_lock(const char *work, char *err, size_t errlen);

/* Makes a fresh WORK/NAME into `dir` (removing an old one chaos made, and any mount a crashed
 * run left on its data/), with the marker in it. Returns 0, or -1 with a sentence in err. */
int workdir_make_experiment(const char *work, const char *name, char *dir, size_t cap, char *err,
                            size_t errlen);

#endif
