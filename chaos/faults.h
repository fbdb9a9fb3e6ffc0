/*
 * faults: makes and undoes each scenario's fault on real files, mounts and processes — only
 * under the work directory (every path is checked with realpath before it is touched).
 *
 * Undo must happen even when chaos itself is interrupted or crashes, so an injected fault is
 * "armed" in static state, and faults_emergency_rollback() undoes it with system calls only
 * (rename, rmdir, umount2, pwrite, kill): it is safe in a signal handler and in atexit. The
 * orderly faults_rollback() does the same and then lets taskd come back.
 */
#ifndef CHAOS_FAULTS_H
#define CHAOS_FAULTS_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "mechanism.h"
#include "scenarios.h"
#include "taskd_runner.h"

#define FAULTS_PATH_MAX 512
#define FAULTS_HEADER_LEN 100
#define FAULTS_TMPFS_SIZE "16m"

struct fault_state {
    const struct scenario *sc;
    char work[FAULTS_PATH_MAX];     /* realpath of the work directory */
    char dir[FAULTS_PATH_MAX];      /* the experiment's directory, under work */
    char data_dir[FAULTS_PATH_MAX]; /* the database's directory */
    char db[FAULTS_PATH_MAX];
    char wal[FAULTS_PATH_MAX + 8];
    char shm[FAULTS_PATH_MAX + 8];
    char aside_dir[FAULTS_PATH_MAX];
    char aside_db[FAULTS_PATH_MAX + 16];
    char aside_wal[FAULTS_PATH_MAX + 24];
    char ballast[FAULTS_PATH_MAX + 16];
    char intruder[3][FAULTS_PATH_MAX + 32]; /* where a database taskd made meanwhile goes */
    char mechanism[1024];                   /* what was really done, for the journal */
    /* What is in place now (what the rollback must undo). */
    int tmpfs_mounted, ro_mounted, db_aside, wal_aside, dir_made, header_saved, injected;
    pid_t lock_pid;
    int lock_release_fd; /* closing it releases the lock holder */
    unsigned char header[FAULTS_HEADER_LEN];
    struct mechanism_ctx mctx; /* FAULT_MECHANISM: what the scenario's mechanism works on */
};

/* Fails (-1, sentence in err) unless `path` resolves inside `work`: each is resolved by the
 * realpath of its deepest existing ancestor plus the rest (which must hold no ".."), so neither
 * needs to exist yet (--dry-run plans in a work directory it does not create). */
int faults_check_under(const char *work, const char *path, char *err, size_t errlen);

/* Fills the paths for scenario `sc` in `dir` (under `work`), with the database at db_path.
 * Returns 0, or -1 with a sentence in err (a path outside the work directory, too long). */
int faults_init(struct fault_state *f, const struct scenario *sc, const char *work, const char *dir,
                const char *db_path, char *err, size_t errlen);

/* Appends the plan (numbered steps with the real paths) to out: what --dry-run prints. */
void faults_plan(const struct fault_state *f, struct buf *out);

/* Before taskd first starts: mounts the tmpfs of disk-full, or the mechanism's prepare (which
 * may set up how `taskd` starts). Returns 0, 1 when the scenario must be skipped (reason in
 * err: needs root), or -1 with a sentence in err. */
int faults_prepare(struct fault_state *f, struct taskd_runner *taskd, char *err, size_t errlen);

/* Injects the fault (stopping and starting taskd for the start-up faults). Returns 0; 1 when
 * the fault is in place but taskd did not come up on it (reason in err: a deviation); or -1
 * with a sentence in err when the fault could not be made (nothing left in place). */
int faults_inject(struct fault_state *f, struct taskd_runner *taskd, char *err, size_t errlen);

/* Undoes the fault; starts taskd again when it is not running (kill-9, or a start-up fault
 * taskd did not survive). Returns 0, or -1 with a sentence in err. Idempotent. */
int faults_rollback(struct fault_state *f, struct taskd_runner *taskd, char *err, size_t errlen);

/* After taskd stopped for good: unmounts what faults_prepare() mounted. Idempotent. */
void faults_cleanup(struct fault_state *f);

/* Marks `f` and `taskd` as the state to undo from a signal handler or atexit (NULL: none). */
void faults_arm(struct fault_state *f, struct taskd_runner *taskd);

/* Async-signal-safe undo of the armed state; kills a managed taskd and the lock holder. */
void faults_emergency_rollback(void);

/* The lock holder's main (run as `chaos __hold-lock DB`): opens DB, takes BEGIN IMMEDIATE,
 * writes "locked\n" to stdout, holds the lock until stdin closes, rolls back. Returns an exit
 * status. */
int faults_hold_lock_main(const char *db_path);

#endif
