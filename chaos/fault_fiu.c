/*
 * fault_fiu: I/O errors injected into the running taskd with libfiu (Debian's fiu-utils and
 * libfiu0): EIO on fdatasync/fsync or pwrite, ENOSPC without filling anything, short writes.
 *
 * Why libfiu: its POSIX preload wraps the calls SQLite makes (pwrite64, fdatasync, fsync) in
 * the target process only, and its control FIFO switches a failure point on and off at run
 * time, so the fault starts and ends while the service serves — what a failing disk does. The
 * alternatives here are worse: device-mapper (dm-error, dm-flakey) is missing from this kernel,
 * a seccomp filter cannot be attached to a running process, and ptrace would stop it at every
 * system call. Preloading is a start-up choice, so taskd runs under the preload for the whole
 * experiment (the steady state included); only the failure point moves.
 *
 * The control protocol is fiu-ctrl's: one command line into PREFIX-PID.in, the answer ("0" or
 * "-1") out of PREFIX-PID.out. Done here with bounded, non-blocking FIFO calls so that a taskd
 * that died cannot hang chaos.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mechanism.h"

#define FIU_LIB_DIR "/usr/lib/fiu"
#define FIU_REPLY_TIMEOUT_MS 3000

static struct {
    char preload[256];  /* LD_PRELOAD=... */
    char fifo_env[600]; /* FIU_CTRL_FIFO=DIR/fiu */
    char prefix[560];
    char point[128]; /* the failure point's name, for disable */
    int enabled;
} st;

static int send_command(const char *prefix, pid_t pid, const char *cmd, char *err, size_t errlen)
{
    char in[640], out[640], reply[32] = "";
    snprintf(in, sizeof(in), "%s-%d.in", prefix, (int)pid);
    snprintf(out, sizeof(out), "%s-%d.out", prefix, (int)pid);
    int fd = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot reach libfiu in taskd through %s: %s", in, strerror(errno));
        return -1;
    }
    char line[256];
    int n = snprintf(line, sizeof(line), "%s\n", cmd);
    ssize_t w = write(fd, line, (size_t)n);
    close(fd);
    int rfd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (w != n || rfd < 0) {
        snprintf(err, errlen, "cannot send '%s' to libfiu in taskd: %s", cmd, strerror(errno));
        if (rfd >= 0)
            close(rfd);
        return -1;
    }
    struct pollfd p = {.fd = rfd, .events = POLLIN};
    ssize_t got = 0;
    if (poll(&p, 1, FIU_REPLY_TIMEOUT_MS) == 1)
        got = read(rfd, reply, sizeof(reply) - 1);
    close(rfd);
    if (got <= 0 || strncmp(reply, "0", 1) != 0) {
        snprintf(err, errlen, "libfiu in taskd did not accept '%s' (answer '%.*s')", cmd,
                 got > 0 ? (int)strcspn(reply, "\n") : 0, reply);
        return -1;
    }
    return 0;
}

static int fiu_prepare(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (!c->taskd->bin) {
        snprintf(err, errlen,
                 "skipped: libfiu's preload must be in taskd from its start; give "
                 "no --target (chaos starts taskd), or run yours under fiu-run -x");
        return 1;
    }
    static const char *const libs[] = {FIU_LIB_DIR "/fiu_run_preload.so",
                                       FIU_LIB_DIR "/fiu_posix_preload.so"};
    for (size_t i = 0; i < 2; i++) {
        if (access(libs[i], R_OK) != 0) {
            snprintf(err, errlen, "skipped: %s is not installed (make deps installs libfiu0)",
                     libs[i]);
            return 1;
        }
    }
    memset(&st, 0, sizeof(st));
    snprintf(st.preload, sizeof(st.preload), "LD_PRELOAD=%s:%s", libs[0], libs[1]);
    snprintf(st.prefix, sizeof(st.prefix), "%s/fiu", c->dir);
    snprintf(st.fifo_env, sizeof(st.fifo_env), "FIU_CTRL_FIFO=%s", st.prefix);
    size_t n = strcspn(c->param, ",");
    snprintf(st.point, sizeof(st.point), "%.*s", (int)n, c->param);
    if (taskd_runner_add_env(c->taskd, st.preload) < 0 ||
        taskd_runner_add_env(c->taskd, st.fifo_env) < 0) {
        snprintf(err, errlen, "too many environment entries for taskd");
        return -1;
    }
    c->mechanism[0] = '\0';
    mechanism_say(c,
                  "taskd started under libfiu's POSIX preload (%s); at the injection, "
                  "'enable name=%s' through its control FIFO %s-PID.in",
                  st.preload + 11, c->param, st.prefix);
    return 0;
}

static int fiu_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "enable name=%s", c->param);
    if (send_command(st.prefix, c->taskd->pid, cmd, err, errlen) < 0)
        return -1;
    st.enabled = 1;
    return 0;
}

static int fiu_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (!st.enabled)
        return 0;
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "disable name=%s", st.point);
    if (c->taskd->pid && send_command(st.prefix, c->taskd->pid, cmd, err, errlen) < 0)
        return -1;
    st.enabled = 0;
    return 0;
}

static void fiu_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out,
               "  0. start taskd with LD_PRELOAD=%s/fiu_run_preload.so:%s/fiu_posix_preload.so "
               "FIU_CTRL_FIFO=%s/fiu\n",
               FIU_LIB_DIR, FIU_LIB_DIR, c->dir);
    buf_printf(out, "  1. 'enable name=%s' into %s/fiu-PID.in while taskd serves\n", c->param,
               c->dir);
    buf_printf(out, "  rollback: 'disable name=%.*s'\n", (int)strcspn(c->param, ","), c->param);
}

/* No emergency undo: the failure point lives in taskd, which dies with chaos. */
const struct mechanism mechanism_fiu = {
    .name = "libfiu",
    .prepare = fiu_prepare,
    .inject = fiu_inject,
    .rollback = fiu_rollback,
    .plan = fiu_plan,
};
