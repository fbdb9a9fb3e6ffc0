/*
 * fault_power: a power cut. The data directory is a lossyfs mount (FUSE, lossyfs/): writes
 * stay in lossyfs's memory until the file is synced. The cut is SIGKILL of the service (no
 * process outlives a power failure) followed by lossyfs's "drop" (every unsynced write
 * vanishes); the service then starts again on what the "disk" kept. lossyfs runs as chaos's child,
 * tied to its life, in chaos's private mount namespace, and is written to the cleanup record.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup_record.h"
#include "control.h"
#include "mechanism.h"

#define MOUNT_TIMEOUT_MS 5000

static struct {
    pid_t pid;
    int mounted;
    char data_dir[600];
    char socket[600];
    char backing[600];
    char dropped[200];
} st;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int start_lossyfs(struct mechanism_ctx *c, const char *bin, char *err, size_t errlen)
{
    char log[640];
    snprintf(log, sizeof(log), "%s/lossyfs.log", c->dir);
    if (cleanup_record_mount(c->data_dir) < 0) {
        snprintf(err, errlen, "cannot write the cleanup record in %s", c->work);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork lossyfs: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        FILE *out = freopen(log, "a", stderr);
        (void)out;
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl(bin, "lossyfs", "--control", st.socket, st.backing, c->data_dir, (char *)NULL);
        _exit(127);
    }
    st.pid = pid;
    cleanup_record_process(pid, "lossyfs");
    char answer[200];
    for (int waited = 0; waited < MOUNT_TIMEOUT_MS; waited += 20) {
        if (control_request(st.socket, "ping", 1000, answer, sizeof(answer)) == 0) {
            st.mounted = 1;
            return 0;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            st.pid = 0;
            snprintf(err, errlen, "lossyfs exited at start (wait status 0x%x; see %s)",
                     (unsigned)status, log);
            return -1;
        }
        sleep_ms(20);
    }
    snprintf(err, errlen, "lossyfs did not answer on %s within %d ms", st.socket, MOUNT_TIMEOUT_MS);
    return -1;
}

static void stop_lossyfs(void)
{
    if (st.mounted && umount2(st.data_dir, MNT_DETACH) == 0)
        st.mounted = 0;
    if (st.pid > 0) {
        kill(st.pid, SIGTERM);
        for (int i = 0; i < 200; i++) {
            if (waitpid(st.pid, NULL, WNOHANG) == st.pid) {
                st.pid = 0;
                return;
            }
            sleep_ms(10);
        }
        kill(st.pid, SIGKILL);
        waitpid(st.pid, NULL, 0);
        st.pid = 0;
    }
}

static int power_prepare(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (access("/dev/fuse", R_OK | W_OK) != 0) {
        snprintf(err, errlen, "skipped: /dev/fuse is not usable here: %s", strerror(errno));
        return 1;
    }
    char bin[600];
    if (mechanism_sibling("lossyfs", bin, sizeof(bin)) < 0) {
        snprintf(err, errlen,
                 "skipped: lossyfs is not built beside chaos (make; it needs "
                 "libfuse3-dev from make deps)");
        return 1;
    }
    memset(&st, 0, sizeof(st));
    snprintf(st.data_dir, sizeof(st.data_dir), "%s", c->data_dir);
    snprintf(st.socket, sizeof(st.socket), "%s/lossyfs.sock", c->dir);
    snprintf(st.backing, sizeof(st.backing), "%s/disk", c->dir);
    if (mkdir(st.backing, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", st.backing, strerror(errno));
        return -1;
    }
    if (start_lossyfs(c, bin, err, errlen) < 0) {
        stop_lossyfs();
        return -1;
    }
    c->mechanism[0] = '\0';
    mechanism_say(c, "%s is lossyfs over %s (unsynced writes held in memory); ", c->data_dir,
                  st.backing);
    return 0;
}

static int power_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (service_runner_kill9(c->service, err, errlen) < 0)
        return -1;
    char answer[200];
    if (control_request(st.socket, "drop", 5000, answer, sizeof(answer)) != 0) {
        snprintf(err, errlen, "lossyfs refused the power cut: %s", answer);
        return -1;
    }
    snprintf(st.dropped, sizeof(st.dropped), "%s", answer + 3);
    mechanism_say(c, "SIGKILL the service, then the cut: lossyfs %s", st.dropped);
    return 0;
}

static int power_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c, (void)err, (void)errlen;
    return 0; /* faults.c starts the service again on what the disk kept */
}

static void power_cleanup(struct mechanism_ctx *c)
{
    (void)c;
    stop_lossyfs();
}

static void power_emergency(void)
{
    if (st.mounted)
        umount2(st.data_dir, MNT_DETACH);
    if (st.pid > 0)
        kill(st.pid, SIGKILL);
}

static void power_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out,
               "  before the service starts: lossyfs --control %s/lossyfs.sock %s/disk %s (FUSE)\n",
               c->dir, c->dir, c->data_dir);
    buf_printf(out,
               "  inject: SIGKILL the service; lossyfs 'drop': every write not synced is lost\n");
    buf_printf(out, "  rollback: start the service again; at the end unmount %s\n", c->data_dir);
}

static const struct mechanism_param power_params[] = {
    {"dir", MECHANISM_PARAM_PATH, "{data_dir}", "the directory that becomes lossyfs"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_power = {
    .name = "power-cut",
    .summary = "the data directory is lossyfs (unsynced writes held in memory); SIGKILL the "
               "service, drop every unsynced write",
    .rollback_summary = "start the service again on what the disk kept",
    .params = power_params,
    .when = MECHANISM_LIVE,
    .default_when = FAULT_LIVE,
    .needs_root = "mounting the FUSE file system lossyfs",
    .stops_service = 1,
    .prepare = power_prepare,
    .inject = power_inject,
    .rollback = power_rollback,
    .cleanup = power_cleanup,
    .emergency = power_emergency,
    .plan = power_plan,
};
