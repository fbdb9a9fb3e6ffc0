/*
 * mechanism: one way of breaking persistence, behind one interface — prepare, inject, roll
 * back, clean up, and undo after a crash of chaos. Each lives in its own file (fault_fiu.c,
 * fault_power.c, fault_pages.c, fault_copies.c, fault_pause.c, fault_remount.c,
 * fault_inodes.c, fault_owner.c); faults.c calls them for the scenarios whose table entry
 * names one, so a scenario is its expectations plus a mechanism and its parameters.
 *
 * A mechanism keeps its state in a static of its own file (one experiment runs at a time), so
 * that emergency() can undo it from a signal handler or atexit with system calls only. What
 * it mounts, attaches or starts is also written to the cleanup record (cleanup_record.h), which
 * the next chaos run or `chaos cleanup` undoes if chaos was killed with SIGKILL.
 */
#ifndef CHAOS_MECHANISM_H
#define CHAOS_MECHANISM_H

#include <stddef.h>

#include "buf.h"
#include "taskd_runner.h"

/* What a mechanism may touch: paths under the work directory, and the taskd. */
struct mechanism_ctx {
    const char *work, *dir, *data_dir, *db, *wal, *shm, *aside_dir;
    const char *param; /* the scenario's parameter for the mechanism (e.g. a libfiu point) */
    struct taskd_runner *taskd;
    char *mechanism; /* what was really done, for the journal (cap: MECHANISM_TEXT_MAX) */
};

#define MECHANISM_TEXT_MAX 1024

struct mechanism {
    const char *name;
    /* Before taskd first starts (mounts, preloads, users). Returns 0, 1 to skip the scenario
     * (reason in err: needs root, a tool is missing), or -1 with a sentence. May be NULL. */
    int (*prepare)(struct mechanism_ctx *c, char *err, size_t errlen);
    /* Makes the fault (stopping and starting taskd itself when it must). Returns 0; 1 when the
     * fault is in place but taskd did not come up on it (a deviation, reason in err); -1 with
     * a sentence when the fault could not be made (nothing left in place). */
    int (*inject)(struct mechanism_ctx *c, char *err, size_t errlen);
    /* Undoes the fault; idempotent. Returns 0, or -1 with a sentence. */
    int (*rollback)(struct mechanism_ctx *c, char *err, size_t errlen);
    /* After taskd stopped for good: unmount, detach, stop helpers. Idempotent. May be NULL. */
    void (*cleanup)(struct mechanism_ctx *c);
    /* Async-signal-safe undo of whatever is in place (chaos is dying). May be NULL. */
    void (*emergency)(void);
    /* The steps with their real paths, for --dry-run. */
    void (*plan)(const struct mechanism_ctx *c, struct buf *out);
};

extern const struct mechanism mechanism_fiu, mechanism_power, mechanism_corrupt_page,
    mechanism_torn_wal, mechanism_older_copy, mechanism_stale_wal, mechanism_pause,
    mechanism_remount, mechanism_inodes, mechanism_owner;

/* Shared helpers of the mechanisms (mechanism.c). */

/* The path of a tool installed beside the chaos binary (lossyfs), into out. Returns 0 or -1. */
int mechanism_sibling(const char *name, char *out, size_t cap);

/* "skipped: needs root (...)" into err and returns 1 when not root, else 0. */
int mechanism_need_root(const char *why, char *err, size_t errlen);

/* Appends printf-style text to the mechanism description. */
void mechanism_say(struct mechanism_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
