/*
 * fault_pause: taskd frozen with SIGSTOP for the fault window — a process stuck in the
 * scheduler, a debugger, a stop-the-world pause, a VM migrated — longer than chaos's probes
 * (1 s) and the load's requests (2 s) wait. Nothing is wrong with the database: the point is
 * what the observers see and that nothing is acknowledged twice or lost across the pause.
 */
#include <signal.h>
#include <stdio.h>

#include "mechanism.h"

static struct {
    pid_t pid;
} st;

static int pause_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (taskd_runner_signal(c->taskd, SIGSTOP, err, errlen) < 0)
        return -1;
    st.pid = c->taskd->pid;
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
