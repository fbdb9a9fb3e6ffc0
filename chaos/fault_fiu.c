/*
 * fault_fiu: I/O errors injected into the running service with libfiu (Debian's fiu-utils and
 * libfiu0): EIO on fdatasync/fsync or pwrite, ENOSPC without filling anything, short writes.
 *
 * Why libfiu: its POSIX preload wraps the calls SQLite makes (pwrite64, fdatasync, fsync) in
 * the target process only, and its control FIFO switches a failure point on and off at run
 * time, so the fault starts and ends while the service serves — what a failing disk does. The
 * alternatives here are worse: device-mapper (dm-error, dm-flakey) is missing from this kernel,
 * a seccomp filter cannot be attached to a running process, and ptrace would stop it at every
 * system call. Preloading is a start-up choice, so the service runs under the preload for the
 * whole experiment (the steady state included); only the failure point moves. Any dynamically
 * linked service whose storage calls those functions can be aimed at (the blog's Python app
 * too: its sqlite3 module is SQLite).
 *
 * The control protocol is fiu-ctrl's: one command line into PREFIX-PID.in, the answer ("0" or
 * "-1") out of PREFIX-PID.out. Done here with bounded, non-blocking FIFO calls so that a service
 * that died cannot hang chaos.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mechanism.h"

#define FIU_LIB_DIR "/usr/lib/fiu"
#define FIU_REPLY_TIMEOUT_MS 3000

static struct {
    char preload[256];  /* LD_PRELOAD=... */
    char fifo_env[600]; /* FIU_CTRL_FIFO=DIR/fiu */
    char prefix[560];
    char point[128];  /* the failure point's name, for disable */
    char enable[200]; /* the enable command */
    int enabled;
} st;

static int send_command(const char *prefix, pid_t pid, const char *cmd, char *err, size_t errlen)
{
    char in[640], out[640], reply[32] = "";
    snprintf(in, sizeof(in), "%s-%d.in", prefix, (int)pid);
    snprintf(out, sizeof(out), "%s-%d.out", prefix, (int)pid);
    int fd = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot reach libfiu in the service through %s: %s", in,
                 strerror(errno));
        return -1;
    }
    char line[256];
    int n = snprintf(line, sizeof(line), "%s\n", cmd);
    ssize_t w = write(fd, line, (size_t)n);
    close(fd);
    int rfd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (w != n || rfd < 0) {
        snprintf(err, errlen, "cannot send '%s' to libfiu in the service: %s", cmd,
                 strerror(errno));
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
        snprintf(err, errlen, "libfiu in the service did not accept '%s' (answer '%.*s')", cmd,
                 got > 0 ? (int)strcspn(reply, "\n") : 0, reply);
        return -1;
    }
    return 0;
}

/* failinfo: an errno name (EIO, ENOSPC, ...) or a number, "" for none. Returns -1 if unknown. */
static long errno_value(const char *text)
{
    static const struct {
        const char *name;
        int value;
    } names[] = {{"EIO", EIO},       {"ENOSPC", ENOSPC}, {"EROFS", EROFS}, {"EDQUOT", EDQUOT},
                 {"EFBIG", EFBIG},   {"EACCES", EACCES}, {"EPERM", EPERM}, {"ENOMEM", ENOMEM},
                 {"EAGAIN", EAGAIN}, {"EINTR", EINTR}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i].name, text) == 0)
            return names[i].value;
    char *end;
    long v = strtol(text, &end, 10);
    return end != text && !*end && v >= 0 && v < 4096 ? v : -1;
}

static int fiu_prepare(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (!c->service->supervised) {
        snprintf(err, errlen,
                 "skipped: libfiu's preload must be in the service from its start; let chaos "
                 "start it (no --target), or run yours under fiu-run -x");
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
    const char *failinfo = mechanism_param(c, "failinfo");
    long info = *failinfo ? errno_value(failinfo) : 0;
    if (info < 0) {
        snprintf(err, errlen,
                 "libfiu's failinfo '%s' is not an errno name (EIO, ENOSPC, ...) or "
                 "number",
                 failinfo);
        return -1;
    }
    snprintf(st.point, sizeof(st.point), "%s", mechanism_param(c, "point"));
    if (*failinfo)
        snprintf(st.enable, sizeof(st.enable), "enable name=%s,failinfo=%ld", st.point, info);
    else
        snprintf(st.enable, sizeof(st.enable), "enable name=%s", st.point);
    snprintf(st.preload, sizeof(st.preload), "LD_PRELOAD=%s:%s", libs[0], libs[1]);
    snprintf(st.prefix, sizeof(st.prefix), "%s/fiu", c->dir);
    snprintf(st.fifo_env, sizeof(st.fifo_env), "FIU_CTRL_FIFO=%s", st.prefix);
    if (service_runner_add_env(c->service, st.preload) < 0 ||
        service_runner_add_env(c->service, st.fifo_env) < 0) {
        snprintf(err, errlen, "too many environment entries for the service");
        return -1;
    }
    c->mechanism[0] = '\0';
    mechanism_say(c,
                  "the service started under libfiu's POSIX preload (%s); at the injection, "
                  "'%s' through its control FIFO %s-PID.in",
                  st.preload + 11, st.enable, st.prefix);
    return 0;
}

static int fiu_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (send_command(st.prefix, c->service->pid, st.enable, err, errlen) < 0)
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
    if (c->service->pid && send_command(st.prefix, c->service->pid, cmd, err, errlen) < 0)
        return -1;
    st.enabled = 0;
    return 0;
}

static void fiu_plan(const struct mechanism_ctx *c, struct buf *out)
{
    const char *failinfo = mechanism_param(c, "failinfo");
    buf_printf(out,
               "  before the service starts: LD_PRELOAD=%s/fiu_run_preload.so:%s/"
               "fiu_posix_preload.so FIU_CTRL_FIFO=%s/fiu\n",
               FIU_LIB_DIR, FIU_LIB_DIR, c->dir);
    buf_printf(out, "  inject: 'enable name=%s%s%s' into %s/fiu-PID.in while the service serves\n",
               mechanism_param(c, "point"), *failinfo ? ",failinfo=" : "", failinfo, c->dir);
    buf_printf(out, "  rollback: 'disable name=%s'\n", mechanism_param(c, "point"));
}

static const struct mechanism_param fiu_params[] = {
    {"point", MECHANISM_PARAM_TEXT, NULL,
     "libfiu's failure point: posix/io/sync/*, posix/io/rw/pwrite, posix/io/rw/pwrite/reduce, ..."},
    {"failinfo", MECHANISM_PARAM_TEXT, "",
     "the errno the call fails with: EIO, ENOSPC, ... or a number (none for /reduce)"},
    {NULL, 0, NULL, NULL},
};

/* No emergency undo: the failure point lives in the service, which dies with chaos. */
const struct mechanism mechanism_fiu = {
    .name = "libfiu",
    .summary = "make a system call of the running service fail (libfiu's POSIX preload and "
               "control FIFO): EIO on fsync or pwrite, ENOSPC, short writes",
    .rollback_summary = "disable the failure point",
    .params = fiu_params,
    .when = MECHANISM_LIVE,
    .default_when = FAULT_LIVE,
    .prepare = fiu_prepare,
    .inject = fiu_inject,
    .rollback = fiu_rollback,
    .plan = fiu_plan,
};
