/*
 * service_runner: the service an experiment breaks — a foreground process chaos supervises
 * (taskd by default, or any command an experiment file gives), or one the user runs, reached by
 * URL and stopped/started through shell hooks.
 *
 * A supervised service runs in a process group of its own with its output (stdout and stderr)
 * collected in DIR/service.out; it is stopped with SIGTERM (SIGKILL after the stop timeout) and
 * killed with SIGKILL, and it dies with chaos (PR_SET_PDEATHSIG). Its port: a command that
 * writes {port_file} (taskd's --port-file) picks its own on the first start; one that takes
 * {port} gets a free one from chaos; every restart reuses it, so the load's base URL stays
 * valid across a kill -9. It counts as started once its live probe answers as expected; a
 * process that ends meanwhile fails the start at once, with the last line of its output.
 */
#ifndef CHAOS_SERVICE_RUNNER_H
#define CHAOS_SERVICE_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "placeholders.h"
#include "scenarios.h"

#define SERVICE_RUNNER_MAX_ARGS (3 * SCENARIO_MAX_ARGS + 16)
#define SERVICE_RUNNER_PATH_MAX 512
#define SERVICE_RUNNER_MAX_ENV (SCENARIO_MAX_ENV + 4)

struct service_runner {
    /* Supervised mode (supervised set). */
    int supervised;
    const char *command[SERVICE_RUNNER_MAX_ARGS + 1]; /* templates, borrowed */
    const char *env_tmpl[SERVICE_RUNNER_MAX_ENV + 1]; /* the file's "NAME=value", borrowed */
    const char *url_tmpl;
    struct placeholders ph; /* its strings point into the fields below or are borrowed */
    char dir[SERVICE_RUNNER_PATH_MAX];
    char db_path[SERVICE_RUNNER_PATH_MAX];
    char data_dir[SERVICE_RUNNER_PATH_MAX];
    char out_path[SERVICE_RUNNER_PATH_MAX + 16]; /* DIR/service.out */
    char port_file[SERVICE_RUNNER_PATH_MAX + 16];
    int port_from_file; /* the command writes {port_file} */
    pid_t pid;          /* 0 when not running */
    unsigned port;      /* 0 until the first start */
    uint64_t start_timeout_ns, stop_timeout_ns;
    /* What a fault mechanism asks of every start: environment entries ("NAME=value",
     * borrowed), and a user to run as (run_as set: setgid/setuid before exec). */
    const char *env[SERVICE_RUNNER_MAX_ENV + 1];
    int run_as;
    uid_t uid;
    gid_t gid;
    /* External mode (supervised 0): the user's service. */
    const char *start_cmd, *stop_cmd, *kill_cmd;
    /* Both. */
    const struct scenario_http_check *live;
    char url[160];       /* base URL, http://127.0.0.1:PORT */
    char last_exit[200]; /* how the supervised process last ended by itself ("" none) */
    unsigned exits;      /* how often it ended without chaos stopping it */
};

/* Prepares a supervised service (nothing starts): the scenario's command (or, for taskd, taskd
 * at taskd_bin with --listen, --db, --port-file and --log-file), then its args, then `extra`
 * (the command line's --service-arg; NULL-terminated, may be NULL). `dir` is the experiment's
 * directory; data_dir and db its expanded paths. Strings of svc are borrowed. Returns 0, or -1
 * with a sentence in err. */
int service_runner_init_supervised(struct service_runner *r, const struct scenario_service *svc,
                                   const char *taskd_bin, const char *const *extra,
                                   const char *work, const char *dir, const char *data_dir,
                                   const char *db, char *err, size_t errlen);

/* Prepares an external runner for the service at `url` (http://HOST:PORT). The hooks run with
 * /bin/sh -c and may be NULL (then that action is not available). */
int service_runner_init_external(struct service_runner *r, const char *url, const char *start_cmd,
                                 const char *stop_cmd, const char *kill_cmd,
                                 const struct scenario_http_check *live, char *err, size_t errlen);

/* Starts the service (supervised: with `more` appended to the arguments, NULL-terminated
 * templates, may be NULL; external: runs the start hook) and waits up to the start timeout
 * until its live probe answers as expected. Returns 0, or -1 with a sentence in err (and the
 * last line of its output when it ended). */
int service_runner_start(struct service_runner *r, const char *const *more, char *err,
                         size_t errlen);

/* SIGTERM and wait (or the stop hook). Returns 0 when it exited 0, or -1 with a sentence. */
int service_runner_stop(struct service_runner *r, char *err, size_t errlen);

/* SIGKILL and reap (or the kill hook). Returns 0, or -1 with a sentence. */
int service_runner_kill9(struct service_runner *r, char *err, size_t errlen);

/* A supervised process that ended by itself is reaped: returns 1 (how it ended in last_exit),
 * else 0. Cheap; the probe loop calls it. */
int service_runner_poll(struct service_runner *r);

/* 1 when the runner can do the action. */
int service_runner_can_restart(const struct service_runner *r);
int service_runner_can_kill(const struct service_runner *r);

/* Adds "NAME=value" (borrowed) to the environment of every later start of a supervised
 * service. Returns 0, or -1 when the table is full. */
int service_runner_add_env(struct service_runner *r, const char *entry);

/* Sends `sig` to a supervised service (SIGSTOP, SIGCONT). Returns 0, or -1 with a sentence. */
int service_runner_signal(struct service_runner *r, int sig, char *err, size_t errlen);

/* Async-signal-safe: SIGKILLs a supervised service that is still running (crash cleanup). */
void service_runner_emergency_kill(struct service_runner *r);

/* The command line of the next start, for --dry-run and the journal (placeholders filled as
 * far as they are known). */
void service_runner_describe(const struct service_runner *r, const char *const *more, char *out,
                             size_t cap);

/* Runs argv (argv[0] a path or a name on PATH) in a process group of its own, output to
 * `log_path` (appended; NULL: chaos's own), bounded by timeout_s (the group is killed after).
 * Returns its exit status (0..255; 127: it could not be run), or -1 with a sentence in err. */
int service_runner_exec(const char *const *argv, const char *log_path, int timeout_s, char *err,
                        size_t errlen);

/* Runs `cmd` with /bin/sh -c, bounded by timeout_s (killed after). Returns its exit status
 * (0..255), or -1 with a sentence in err. */
int service_runner_shell(const char *cmd, int timeout_s, char *err, size_t errlen);

#endif
