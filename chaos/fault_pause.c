/*
 * fault_pause: taskd frozen with SIGSTOP for the fault window — a process stuck in the
 * scheduler, a debugger, a stop-the-world pause, a VM migrated — longer than chaos's probes
 * (1 s) and the load's requests (2 s) wait. Nothing is wrong with the database: the point is
 * what the observers see and that nothing is acknowledged twice or lost across the pause.
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
    if (taskd_runner_signal(c->taskd, SIGSTOP, err, errlen) < 0)
        return -1;
    st.pid = c->taskd->pid;
    for (int waited = 0; !all_threads_stopped(st.pid); waited++) {
        if (waited == STOP_WAIT_MS) {
            snprintf(err, errlen, "taskd (pid %d) was sent SIGSTOP but did not stop within %d ms",
                     (int)st.pid, STOP_WAIT_MS);
            return 0; /* in place all the same; the verdict will say what taskd did */
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
    if (taskd_runner_signal(c->taskd, SIGCONT, err, errlen) < 0)
        return -1;
    st.pid = 0;
    return 0;
}

static void pause_emergency(void)
{
    if (st.pid > 0)
        kill(st.pid, SIGCONT); /* a stopped child would not act on anything but SIGKILL */
}

static void pause_plan(const struct mechanism_ctx *c, struct buf *out)
{
    (void)c;
    buf_printf(out, "  1. SIGSTOP taskd for the fault window\n  rollback: SIGCONT\n");
}

const struct mechanism mechanism_pause = {
    .name = "SIGSTOP",
    .inject = pause_inject,
    .rollback = pause_rollback,
    .emergency = pause_emergency,
    .plan = pause_plan,
};
