/*
 * faults: runs an experiment's fault mechanism (mechanism.h) on real files, mounts and
 * processes — only under the work directory (every path is checked with realpath before it is
 * touched). It fills the mechanism's parameters in, checks the root it needs, and wraps an
 * at-start fault: stop the service (SIGTERM, or SIGKILL for a crash), make the fault, start the
 * service on it with the fault's extra arguments.
 *
 * Undo must happen even when chaos itself is interrupted or crashes, so an injected fault is
 * "armed" in static state, and faults_emergency_rollback() undoes it with system calls only
 * (each mechanism's emergency()): it is safe in a signal handler and in atexit. The orderly
 * faults_rollback() does the same and then lets the service come back.
 */
#ifndef CHAOS_FAULTS_H
#define CHAOS_FAULTS_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "mechanism.h"
#include "placeholders.h"
#include "scenarios.h"
#include "service_runner.h"

#define FAULTS_PATH_MAX 512

struct fault_state {
    const struct scenario *sc;
    char work[FAULTS_PATH_MAX];     /* realpath of the work directory */
    char dir[FAULTS_PATH_MAX];      /* the experiment's directory, under work */
    char data_dir[FAULTS_PATH_MAX]; /* the directory the mechanism works in */
    char db[FAULTS_PATH_MAX];       /* the database the mechanism works on */
    char wal[FAULTS_PATH_MAX + 8];
    char shm[FAULTS_PATH_MAX + 8];
    char aside_dir[FAULTS_PATH_MAX];
    char params[SCENARIO_MAX_PARAMS][FAULTS_PATH_MAX]; /* the parameters, filled in */
    const char *param[SCENARIO_MAX_PARAMS];
    char mechanism[MECHANISM_TEXT_MAX]; /* what was really done, for the journal */
    int injected;                       /* the fault is in place */
    int service_down; /* the fault left the service down (killed, or it did not come up) */
    struct mechanism_ctx mctx;
};

/* Fails (-1, sentence in err) unless `path` resolves inside `work`: each is resolved by the
 * realpath of its deepest existing ancestor plus the rest (which must hold no ".."), so neither
 * needs to exist yet (--dry-run plans in a work directory it does not create). */
int faults_check_under(const char *work, const char *path, char *err, size_t errlen);

/* Fills the paths and parameters for scenario `sc`, whose experiment directory is ph->dir and
 * whose service keeps its data at ph->data_dir and ph->db. Returns 0, or -1 with a sentence in
 * err (a path outside the work directory, too long). */
int faults_init(struct fault_state *f, const struct scenario *sc, const struct placeholders *ph,
                char *err, size_t errlen);

/* Appends the plan (the steps with the real paths) to out: what --dry-run prints. */
void faults_plan(const struct fault_state *f, struct buf *out);

/* Before the service first starts: the root check, the mechanism's prepare (which may set up
 * how the service starts). Returns 0, 1 when the experiment must be skipped (reason in err),
 * or -1 with a sentence in err. */
int faults_prepare(struct fault_state *f, struct service_runner *svc, char *err, size_t errlen);

/* Injects the fault (stopping and starting the service for an at-start fault). Returns 0; 1
 * when the fault is in place but the service did not come up on it (reason in err: a
 * deviation); 2 when the fault does not apply to this service (the reason in err, nothing
 * made, the service running); or -1 with a sentence in err when the fault could not be made
 * (nothing left in place). */
int faults_inject(struct fault_state *f, struct service_runner *svc, char *err, size_t errlen);

/* Undoes the fault; starts the service again when it is down. Returns 0, or -1 with a
 * sentence in err. Idempotent. */
int faults_rollback(struct fault_state *f, struct service_runner *svc, char *err, size_t errlen);

/* After the service stopped for good: unmounts what the mechanism mounted. Idempotent. */
void faults_cleanup(struct fault_state *f);

/* Marks `f` and `svc` as the state to undo from a signal handler or atexit (NULL: none). */
void faults_arm(struct fault_state *f, struct service_runner *svc);

/* Async-signal-safe undo of the armed state; kills a supervised service. */
void faults_emergency_rollback(void);

#endif
