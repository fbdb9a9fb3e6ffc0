/*
 * fault_signals: the service's process itself, hit with a signal.
 *
 * kill: SIGKILL under load, a crash (kill-9); the rollback starts the service again on the
 *   same data and port, and the audit reads what survived.
 * pause: the service frozen with SIGSTOP for the fault window — a process stuck in the
 *   scheduler, a debugger, a stop-the-world pause, a VM migrated — longer than chaos's probes
 *   (1 s) and the load's requests (2 s) wait. Nothing is wrong with the data: the point is what
 *   the observers see and that nothing is acknowledged twice or lost across the pause.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mechanism.h"

#define STOP_WAIT_MS 2000

static struct {
    pid_t pid;
} st;

/* ---- kill ------------------------------------------------------------------------------------ */

static int kill_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (!service_runner_can_kill(c->service)) {
        snprintf(err, errlen,
                 "the kill mechanism needs a service chaos starts, or --kill-cmd and "
                 "--start-cmd with --target");
        return -1;
    }
    if (service_runner_kill9(c->service, err, errlen) < 0)
        return -1;
    c->mechanism[0] = '\0';
    mechanism_say(c, "SIGKILL to the service under load");
    return 0;
}

static int kill_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c, (void)err, (void)errlen;
    return 0; /* faults.c starts the service again */
}

static void kill_plan(const struct mechanism_ctx *c, struct buf *out)
{
    (void)c;
    buf_printf(out, "  inject: SIGKILL the service\n  rollback: start it again on the same data "
                    "and port\n");
}

const struct mechanism mechanism_kill = {
    .name = "kill",
    .summary = "SIGKILL the service under load (a crash)",
    .rollback_summary = "start the service again on the same data and port",
    .when = MECHANISM_LIVE,
    .default_when = FAULT_LIVE,
    .stops_service = 1,
    .inject = kill_inject,
    .rollback = kill_rollback,
    .plan = kill_plan,
};

/* ---- pause ----------------------------------------------------------------------------------- */

/* 1 when every thread of `pid` is stopped: kill() returns before the kernel has stopped them,
 * and on a busy machine a thread may still answer a request for a few milliseconds, which the
 * verdict would count as acknowledged during the pause. */
static int all_threads_stopped(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int stopped = 1;
    struct dirent *e;
    while (stopped && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char stat_path[400], line[512];
        snprintf(stat_path, sizeof(stat_path), "%s/%s/stat", path, e->d_name);
        FILE *f = fopen(stat_path, "r");
        if (!f)
            continue;
        const char *after_name = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
        stopped = after_name && (after_name[2] == 'T' || after_name[2] == 't');
        fclose(f);
    }
    closedir(d);
    return stopped;
}

static int pause_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    c->mechanism[0] = '\0';
    mechanism_say(c, "SIGSTOP to the service (and its process group) for the fault window");
    if (service_runner_signal(c->service, SIGSTOP, err, errlen) < 0)
        return -1;
    st.pid = c->service->pid;
    for (int waited = 0; !all_threads_stopped(st.pid); waited++) {
        if (waited == STOP_WAIT_MS) {
            snprintf(err, errlen,
                     "the service (pid %d) was sent SIGSTOP but did not stop within %d ms",
                     (int)st.pid, STOP_WAIT_MS);
            return 0; /* in place all the same; the verdict will say what the service did */
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return 0;
}

static int pause_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (!st.pid)
        return 0;
    if (service_runner_signal(c->service, SIGCONT, err, errlen) < 0)
        return -1;
    st.pid = 0;
    return 0;
}

static void pause_emergency(void)
{
    if (st.pid > 0)
        kill(-st.pid, SIGCONT),
            kill(st.pid, SIGCONT); /* a stopped child would not act on anything but SIGKILL */
}

static void pause_plan(const struct mechanism_ctx *c, struct buf *out)
{
    (void)c;
    buf_printf(out, "  inject: SIGSTOP the service for the fault window\n  rollback: SIGCONT\n");
}

const struct mechanism mechanism_pause = {
    .name = "pause",
    .summary = "SIGSTOP the service for the fault window",
    .rollback_summary = "SIGCONT",
    .when = MECHANISM_LIVE,
    .default_when = FAULT_LIVE,
    .inject = pause_inject,
    .rollback = pause_rollback,
    .emergency = pause_emergency,
    .plan = pause_plan,
};
