/*
 * mechanism: one way of breaking persistence, behind one interface — prepare, inject, roll
 * back, clean up, and undo after a crash of chaos — with named parameters, so that an
 * experiment file can aim any mechanism at any service's files ("mechanism": "move-away",
 * "params": {"path": "{db}"}). Each lives in a file of its own: fault_files.c (move-away,
 * make-directory, unlink, overwrite-bytes), fault_mounts.c (readonly-mount, fill-disk),
 * fault_lock.c (sqlite-lock), fault_signals.c (kill, pause), fault_fiu.c (libfiu),
 * fault_power.c (power-cut), fault_pages.c (corrupt-page, torn-wal), fault_copies.c
 * (older-copy, stale-wal), fault_remount.c (remount-ro), fault_inodes.c (inodes) and
 * fault_owner.c (owner). faults.c runs them: it stops and starts the service around an
 * at-start fault, so a mechanism only makes and undoes the fault itself.
 *
 * A mechanism keeps its state in a static of its own file (one experiment runs at a time), so
 * that emergency() can undo it from a signal handler or atexit with system calls only. What
 * it mounts, attaches or starts is also written to the cleanup record (cleanup_record.h), which
 * the next chaos run or `chaos cleanup` undoes if chaos was killed with SIGKILL.
 */
#ifndef CHAOS_MECHANISM_H
#define CHAOS_MECHANISM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "scenarios.h"
#include "service_runner.h"

enum mechanism_param_type {
    MECHANISM_PARAM_PATH,  /* a path, checked to be under the work directory */
    MECHANISM_PARAM_TEXT,  /* any text */
    MECHANISM_PARAM_SIZE,  /* bytes: 4096, 64KiB, 16M */
    MECHANISM_PARAM_COUNT, /* a whole number */
    MECHANISM_PARAM_DURATION,
};

struct mechanism_param {
    const char *name;
    enum mechanism_param_type type;
    const char *fallback; /* the default (may hold placeholders); NULL: the file must give it */
    const char *doc;      /* one line for docs/chaos.md and errors */
};

#define MECHANISM_LIVE (1u << FAULT_LIVE)
#define MECHANISM_AT_START (1u << FAULT_AT_START)

/* What a mechanism may touch: paths under the work directory, and the service. The database
 * paths come from the mechanism's "db" (or "path") parameter where it has one, the data
 * directory from its "dir" parameter. */
struct mechanism_ctx {
    const char *work, *dir, *data_dir, *db, *wal, *shm, *aside_dir;
    const char *const *param; /* expanded values, aligned with the mechanism's params */
    const struct mechanism *mech;
    int at_start; /* the fault is made with the service stopped */
    struct service_runner *service;
    char *mechanism; /* what was really done, for the journal (cap: MECHANISM_TEXT_MAX) */
};

#define MECHANISM_TEXT_MAX 1024

struct mechanism {
    const char *name;                     /* as experiment files name it */
    const char *summary;                  /* what it does, one line (docs, chaos mechanisms) */
    const char *rollback_summary;         /* how it is undone, one line */
    const struct mechanism_param *params; /* terminated by a NULL name; NULL: none */
    unsigned when;                        /* MECHANISM_LIVE and/or MECHANISM_AT_START */
    enum fault_when default_when;
    enum fault_stop default_stop; /* how an at-start fault stops the service first */
    const char *needs_root;       /* why it needs root (NULL: it does not) */
    int stops_service;            /* inject leaves the service down: the rollback starts it */
    /* Before the service first starts (mounts, preloads, users). Returns 0, 1 to skip the
     * experiment (reason in err: needs root, a tool is missing), or -1 with a sentence. May be
     * NULL. */
    int (*prepare)(struct mechanism_ctx *c, char *err, size_t errlen);
    /* Whether the fault applies to this service, asked just before inject (an at-start fault:
     * with the service stopped). Returns 1, or 0 with the reason in why (a fault on SQLite's
     * -wal, on a service that keeps none): the experiment is skipped, nothing was made. May be
     * NULL (always applies). */
    int (*applies)(const struct mechanism_ctx *c, char *why, size_t whylen);
    /* Makes the fault; an at-start fault finds the service stopped. Returns 0; 1 when the
     * fault is in place but the service did not come up on it (a deviation, reason in err);
     * -1 with a sentence when the fault could not be made (nothing left in place). */
    int (*inject)(struct mechanism_ctx *c, char *err, size_t errlen);
    /* Undoes the fault; idempotent. Returns 0, or -1 with a sentence. */
    int (*rollback)(struct mechanism_ctx *c, char *err, size_t errlen);
    /* After the service stopped for good: unmount, detach, stop helpers. Idempotent. May be
     * NULL. */
    void (*cleanup)(struct mechanism_ctx *c);
    /* Async-signal-safe undo of whatever is in place (chaos is dying). May be NULL. */
    void (*emergency)(void);
    /* The steps with their real paths, for --dry-run. */
    void (*plan)(const struct mechanism_ctx *c, struct buf *out);
};

/* Every mechanism, NULL-terminated, in the order docs/chaos.md lists them. */
extern const struct mechanism *const mechanisms[];

extern const struct mechanism mechanism_move_away, mechanism_make_directory, mechanism_unlink,
    mechanism_overwrite_bytes, mechanism_readonly_mount, mechanism_fill_disk, mechanism_sqlite_lock,
    mechanism_kill, mechanism_pause, mechanism_fiu, mechanism_power, mechanism_corrupt_page,
    mechanism_torn_wal, mechanism_older_copy, mechanism_stale_wal, mechanism_remount,
    mechanism_inodes, mechanism_owner;

/* The mechanism called `name`, or NULL. */
const struct mechanism *mechanism_find(const char *name);

/* The index of parameter `name` of m, or -1. */
int mechanism_param_index(const struct mechanism *m, const char *name);

/* The expanded value of parameter `name` (NULL when the mechanism has none of that name). */
const char *mechanism_param(const struct mechanism_ctx *c, const char *name);

/* A size or count parameter, parsed (validated when the file was read). */
uint64_t mechanism_param_number(const struct mechanism_ctx *c, const char *name);

/* Checks one parameter value against its type (placeholders are not expanded yet). Returns 0,
 * or -1 with a sentence in err saying what is expected. */
int mechanism_param_check(const struct mechanism_param *p, const char *value, char *err,
                          size_t errlen);

/* The lock holder of sqlite-lock, run as `chaos __hold-lock DB` (fault_lock.c): opens DB,
 * takes BEGIN IMMEDIATE, writes "locked\n" to stdout, holds the lock until stdin closes, rolls
 * back. Returns an exit status. */
int fault_lock_main(const char *db_path);

/* Shared helpers of the mechanisms (mechanism.c). */

/* The path of a tool installed beside the chaos binary (lossyfs), into out. Returns 0 or -1. */
int mechanism_sibling(const char *name, char *out, size_t cap);

/* "skipped: needs root (...)" into err and returns 1 when not root, else 0. */
int mechanism_need_root(const char *why, char *err, size_t errlen);

/* Whether SQLite's -wal `wal` is there to break: 1, or 0 with "does not apply: ..." in why
 * when there is none (the service does not keep its database in WAL mode). */
int mechanism_wal_present(const char *wal, char *why, size_t whylen);

/* Appends printf-style text to the mechanism description. */
void mechanism_say(struct mechanism_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sleeps ms milliseconds (restarting on signals). */
void mechanism_sleep_ms(long ms);

#endif
