/*
 * taskd_proc: the real taskd binary as a child process, in a temporary directory of its own.
 *
 * taskd_proc_start() makes DIR with mkdtemp and runs `taskd --listen 127.0.0.1:0 --port-file
 * DIR/port --db DIR/data/tasks.db --log-file DIR/taskd.log` plus extra arguments, then waits
 * (bounded) for the port file, so a started taskd is always listening. Its stdout and stderr go
 * to DIR/stderr. The binary is $TASKD_BIN (else $TASKBENCH_ROOT/build/bin/taskd).
 *
 * No child outlives the tests: each one dies with the test process (PR_SET_PDEATHSIG), and an
 * atexit handler kills and removes whatever taskd_proc_destroy() was not called for.
 */
#ifndef E2E_TASKD_PROC_H
#define E2E_TASKD_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TASKD_PROC_MAX_ARGS 32
#define TASKD_PROC_START_TIMEOUT_MS 5000
#define TASKD_PROC_STOP_TIMEOUT_MS 15000

/* In args and env, "@DIR@" stands for the test directory (it does not exist before start). */
struct taskd_opts {
    const char *const *args; /* extra arguments, NULL-terminated; may be NULL */
    const char *const *env;  /* extra "NAME=value" environment entries, NULL-terminated */
    int omit_listen_db;      /* leave --listen and --db out (to test TASKD_LISTEN/TASKD_DB) */
};

struct taskd_proc {
    pid_t pid; /* 0 when not running */
    uint16_t port;
    char dir[256];
    char port_file[320];
    char db_path[320];
    char log_path[320];
    char stderr_path[320];
    char *args[TASKD_PROC_MAX_ARGS + 1];
    char *env[TASKD_PROC_MAX_ARGS + 1];
    int omit_listen_db;
};

/* The taskd binary the tests run. */
const char *taskd_proc_bin(void);

/* Creates the directory and starts taskd in it. Returns 0, or -1 with the reason (and taskd's
 * stderr, if it ran) printed to stderr; the directory is removed again on failure. */
int taskd_proc_start(struct taskd_proc *p, const struct taskd_opts *opts);

/* Starts taskd again on the same directory with the same options (after a stop or a kill).
 * Returns 0 or -1 like taskd_proc_start(). */
int taskd_proc_restart(struct taskd_proc *p);

/* Replaces the extra arguments for the next taskd_proc_restart() (copied, "@DIR@" expanded;
 * the struct owns them: never store other pointers in p->args). Returns 0, or -1 with the old
 * arguments kept. */
int taskd_proc_set_args(struct taskd_proc *p, const char *const *args);

int taskd_proc_signal(struct taskd_proc *p, int sig);

/* Waits up to `timeout_ms` for the child to exit. Returns 0 with its wait status in *status,
 * or -1 when it is still running. */
int taskd_proc_wait(struct taskd_proc *p, int timeout_ms, int *status);

/* SIGTERM, then waits for the exit (TASKD_PROC_STOP_TIMEOUT_MS). Returns 0 with the wait status,
 * or -1 when taskd did not exit in time (it is then killed with SIGKILL). */
int taskd_proc_stop(struct taskd_proc *p, int *status);

/* SIGKILL and reap. Returns 0 with the wait status, or -1 when nothing was running. */
int taskd_proc_kill9(struct taskd_proc *p, int *status);

/* Reads a whole file (NUL-terminated; the caller frees it). NULL when it cannot be read. */
char *taskd_proc_read_file(const char *path, size_t *len);
char *taskd_proc_read_log(const struct taskd_proc *p, size_t *len);

/* Kills taskd if it still runs and removes the directory. Safe to call twice. */
void taskd_proc_destroy(struct taskd_proc *p);

/* Runs taskd to completion with `args` (and extra `env`) in the foreground, capturing stdout and
 * stderr, e.g. for --help or a bad flag. Returns 0 with the wait status (the child is killed
 * after `timeout_ms`), or -1. The caller frees *out and *err. */
int taskd_proc_run(const char *const *args, const char *const *env, int timeout_ms, int *status,
                   char **out, char **err);

/* The same for another program (loadgen, chaos). */
int taskd_proc_run_program(const char *bin, const char *const *args, const char *const *env,
                           int timeout_ms, int *status, char **out, char **err);

/* Starts a program in the background with stdout/stderr to files; wait for it with
 * taskd_proc_wait() on a struct taskd_proc whose pid is the returned one. Returns -1 on error. */
pid_t taskd_proc_spawn_program(const char *bin, const char *const *args, const char *out_path,
                               const char *err_path);

/* Path of a sibling tool of the taskd under test: "loadgen" or "chaos". */
const char *taskd_proc_tool_bin(const char *name);

/* Removes a directory tree (no symlinks followed). Returns 0 or -1. */
int taskd_proc_remove_tree(const char *dir);

#endif
