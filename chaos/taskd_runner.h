/*
 * taskd_runner: the taskd an experiment breaks — a child chaos starts itself, or one the user
 * runs, reached by URL and stopped/started through shell hooks.
 *
 * A managed taskd runs as `taskd --listen 127.0.0.1:PORT --port-file DIR/taskd.port --db DB
 * --log-file DIR/taskd.log` plus the user's extra arguments. The first start uses port 0; every
 * restart reuses the port it got, so the load engine's base URL stays valid across a kill -9.
 * The child dies with chaos (PR_SET_PDEATHSIG), so a crash of chaos never leaves it behind.
 */
#ifndef CHAOS_TASKD_RUNNER_H
#define CHAOS_TASKD_RUNNER_H

#include <stddef.h>
#include <sys/types.h>

#define TASKD_RUNNER_MAX_ARGS 32
#define TASKD_RUNNER_PATH_MAX 512
#define TASKD_RUNNER_MAX_ENV 4

struct taskd_runner {
    /* Managed mode (bin set). */
    const char *bin;
    char dir[TASKD_RUNNER_PATH_MAX]; /* where the port file, log and stderr go */
    char db_path[TASKD_RUNNER_PATH_MAX];
    char log_path[TASKD_RUNNER_PATH_MAX + 16];
    const char *args[TASKD_RUNNER_MAX_ARGS + 1]; /* the user's extra arguments */
    pid_t pid;                                   /* 0 when not running */
    unsigned port;                               /* 0 until the first start */
    /* What a fault mechanism asks of every start: environment entries ("NAME=value",
     * borrowed), and a user to run as (run_as set: setgid/setuid before exec). */
    const char *env[TASKD_RUNNER_MAX_ENV + 1];
    int run_as;
    uid_t uid;
    gid_t gid;
    /* External mode (bin NULL): the user's taskd. */
    const char *start_cmd, *stop_cmd, *kill_cmd;
    char url[160]; /* base URL, http://127.0.0.1:PORT */
};

/* Prepares a managed runner (nothing starts). `dir` and `db_path` must exist as strings only;
 * `args` (NULL-terminated, may be NULL) are borrowed and must outlive the runner. Returns 0, or
 * -1 with a sentence in err (too many arguments, paths too long). */
int taskd_runner_init_managed(struct taskd_runner *r, const char *bin, const char *dir,
                              const char *db_path, const char *const *args, char *err,
                              size_t errlen);

/* Prepares an external runner for the taskd at `url` (http://HOST:PORT). The hooks run with
 * /bin/sh -c and may be NULL (then that action is not available). */
int taskd_runner_init_external(struct taskd_runner *r, const char *url, const char *start_cmd,
                               const char *stop_cmd, const char *kill_cmd, char *err,
                               size_t errlen);

/* Starts taskd (managed: with `more` appended to the arguments, NULL-terminated, may be NULL;
 * external: runs the start hook) and waits up to 10 s until it answers /livez. Returns 0, or -1
 * with a sentence in err (and taskd's last stderr lines when it died). */
int taskd_runner_start(struct taskd_runner *r, const char *const *more, char *err, size_t errlen);

/* SIGTERM and wait (or the stop hook). Returns 0 when it exited 0, or -1 with a sentence. */
int taskd_runner_stop(struct taskd_runner *r, char *err, size_t errlen);

/* SIGKILL and reap (or the kill hook). Returns 0, or -1 with a sentence. */
int taskd_runner_kill9(struct taskd_runner *r, char *err, size_t errlen);

/* 1 when the runner can do the action. */
int taskd_runner_can_restart(const struct taskd_runner *r);
int taskd_runner_can_kill(const struct taskd_runner *r);

/* Adds "NAME=value" (borrowed) to the environment of every later start of a managed taskd.
 * Returns 0, or -1 when TASKD_RUNNER_MAX_ENV entries are set. */
int taskd_runner_add_env(struct taskd_runner *r, const char *entry);

/* Sends `sig` to a managed taskd (SIGSTOP, SIGCONT). Returns 0, or -1 with a sentence. */
int taskd_runner_signal(struct taskd_runner *r, int sig, char *err, size_t errlen);

/* Async-signal-safe: SIGKILLs a managed child that is still running (crash cleanup). */
void taskd_runner_emergency_kill(struct taskd_runner *r);

/* Runs argv (argv[0] a path or a name on PATH) in a process group of its own, output to
 * `log_path` (appended; NULL: chaos's own), bounded by timeout_s (the group is killed after).
 * Returns its exit status (0..255; 127: it could not be run), or -1 with a sentence in err. */
int taskd_runner_exec(const char *const *argv, const char *log_path, int timeout_s, char *err,
                      size_t errlen);

/* Runs `cmd` with /bin/sh -c, bounded by timeout_s (killed after). Returns its exit status
 * (0..255), or -1 with a sentence in err. */
int taskd_runner_shell(const char *cmd, int timeout_s, char *err, size_t errlen);

#endif
